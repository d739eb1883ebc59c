"""Agents: workload identities that authenticate to the sidecar with an API key.

``agents.keys``
    Key generation (``sra_<kid>_<secret>``), SHA-256 hashing and constant-time checks, and the
    per-Agent keys document with ``rotate(doc, now, overlap)`` and ``prune(doc, now)``.
``agents.access``
    ``AccessSet.from_wire(name, access).check(grant, provider, kind, id, scopes)``: what the
    Agent's ``spec.access`` allows, with the reason that goes into audit.

docs/agents.md describes the model.
"""
