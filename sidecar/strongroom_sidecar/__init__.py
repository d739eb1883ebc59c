"""Strongroom sidecar: a loopback proxy that checks policy, injects the credential and audits."""
