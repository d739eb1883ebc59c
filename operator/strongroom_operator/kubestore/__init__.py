"""The storage port on the Kubernetes API: sealed grant records and App documents as Secrets in
the control plane's namespace, compare-and-swap by resourceVersion, change notification by watch.

The API client and the cluster configuration are ``strongroom_kube`` (``client.KubeClient``,
``config.ClusterConfig``), shared with the webhook.

- ``storage.KubernetesStorage`` — implements ``strongroom_core.storage.ports.Storage``; audit
  goes to a delegate (the SQLite collector) until PostgreSQL arrives.
- ``connecting.open_storage(namespace=, kubeconfig=, audit=)`` — the above in one call
  (kubeconfig argument, ``$KUBECONFIG``, or in-cluster).
- ``rootkeys.KubernetesRootKeyStore`` — the root keyring in a Secret, never deleted.
- ``sealingkeys.KubernetesSealingKeyStore`` — the sealing key pair, created once by whichever
  replica comes first.
- ``keysecrets.KeySecret`` — what both keep their key in: a JSON document in a kept Secret,
  created and replaced by compare-and-swap.

Why the control plane's namespace: docs/architecture.md, "Where sealed records live".
"""
