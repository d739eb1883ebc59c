"""The kopf operator: thin handlers over the same reconcile functions dev mode uses.

- ``main`` — the ``strongroom-operator`` console command (peering or ``--standalone``).
- ``wiring.build_registry(settings)`` — the decorator module: kopf events → handler functions.
- ``settings.OperatorSettings`` — tunables (tests pass short ones).
- ``runtime.Runtime`` — storage, root and sealing keys, reconcile context, built at startup.
- ``indexes`` — kopf indexes of parsed resources by ``(namespace, app)``; ``checks`` — parse
  and reference checks (Invalid vs Waiting); ``publishing`` — the App's compiled policy kept
  current, one coalesced compile per App at a time.
- per kind: ``apps``, ``providers``, ``grants`` (+ ``revocation``, ``grantwatch``), ``agents``.
- ``conditions``/``reporting`` — status and Events; ``kubeio`` — Secrets and status patches.
"""
