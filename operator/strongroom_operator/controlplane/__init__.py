"""The control plane: key release, each App's grants and policy as a watch stream,
compare-and-swap write-back of grants, and audit ingest, over HTTP (aiohttp).

Modules: ``server`` (compose and start), ``state`` (the ``ControlPlane`` the handlers share),
``settings``, ``auth`` (who is calling), ``keyservice`` (App data keys, memory only),
``problems`` (RFC 9457 errors), ``bodies`` (reading JSON requests), ``routes_*`` (one per
resource), ``watching`` (the watch stream), ``auditing`` (checking ingested audit events).
The wire protocol is described in docs/control-plane-protocol.md.
"""
