"""Scenarios of the Kubernetes control plane written once against an API client, so the
emulator tests (tests/operator, tests/controlplane_kube) and the opt-in real-cluster suite
(tests/cli_cluster/test_real_cluster.py, ``pytest -m cluster``) run the same code."""
