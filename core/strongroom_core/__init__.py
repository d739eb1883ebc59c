"""Strongroom core: resource models and validation, sealing, policy, provider catalog and
injection, audit event schema, storage ports and the control-plane protocol types.

Core imports no role (operator, sidecar, webhook), no CLI, no SDK, no kopf and no aiohttp.web.
"""
