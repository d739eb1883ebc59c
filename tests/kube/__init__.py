"""The project's Kubernetes API emulator: a test fixture that kopf, the Kubernetes storage and
the control plane's TokenReview client run against. Start with :mod:`tests.kube.emulator`."""
