"""A small Kubernetes API client shared by the roles that talk to the API server (the operator
and control plane, the webhook). Roles may not import each other and core may not import
aiohttp, so the client is its own distribution; it imports no Strongroom package.

- ``config.ClusterConfig`` — where the API server is and how to authenticate
  (``in_cluster()``, ``from_kubeconfig(path)``).
- ``client.KubeClient`` — JSON requests with the token re-read per call, typed errors by HTTP
  status, watch streams.

The sidecar never talks to the Kubernetes API and does not carry this package.
"""
