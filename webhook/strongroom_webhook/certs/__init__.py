"""Webhook TLS: a self-managed CA shared by all replicas through one Secret (``authority``,
``rotation``, ``sharing``), mounted certificates from cert-manager or a user Secret (``mounted``),
and an SSL context whose certificate is replaced without a restart (``serving``)."""
