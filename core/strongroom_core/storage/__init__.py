"""Storage ports: what the control plane and the reconcile logic need from a store.

Implementations: SQLite (``sqlite``, dev mode and tests) and, in a later issue, the Kubernetes
API. Modules: ``records`` (the value types), ``ports`` (the Protocol), ``errors``.
"""
