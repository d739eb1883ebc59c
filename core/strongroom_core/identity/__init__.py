"""JWT identity: verify an end user's token against the App's identity provider, map it to a
principal, and decide which grant that principal may use. Pure and fast: no network I/O here
(the JWKS fetch is a callback the sidecar supplies) and no aiohttp.

Module map (import modules, not names):

``identity.errors``
    ``IdentityError(code, detail)`` with ``.code`` (stable, :data:`errors.CODES`) and
    ``.status`` (HTTP, :data:`errors.STATUS`); ``JwksError`` for unusable JWKS documents.
``identity.algorithms``
    The accepted JWS algorithms (RS256/384/512, PS256/384, ES256/384, EdDSA) and their
    signature checks; ``none`` and ``HS*`` are refused always.
``identity.encoding``
    Strict base64url and duplicate-free JSON.
``identity.jwks``
    ``parse_jwks(document, strict=False) -> KeySet`` (a read-only mapping kid →
    ``VerificationKey``, with ``.refused`` describing each left-out key by index and field).
``identity.caching``
    ``Fetch`` (Protocol: ``async (url) -> bytes``) and ``JwksCache(url, min_refetch_interval=30,
    max_age=3600)``: ``needs_refetch(kid, now)``, ``needs_refresh(now)``, ``replace(keys, now)``,
    ``async get_key(kid, fetch, now)``, ``async refresh(fetch, now)`` (single flight).
``identity.compact``
    Splitting a compact JWS and the header rules (size bounds, ``crit``, embedded keys).
``identity.verification``
    ``Expectations(issuer, audiences, algorithms, leeway=30)``;
    ``verify(token, *, keys, issuer, audiences, algorithms, leeway=30, now) -> Claims`` (sync);
    ``async verify_fetching(token, *, cache, fetch, issuer, ..., now) -> Claims``;
    ``Verifier(expected, cache, fetch)`` with ``async verify(token, now=None) -> Claims``,
    which also remembers recently verified tokens (:mod:`.recent`).
``identity.recent``
    ``RecentTokens(max_entries=1024)``: verified tokens by SHA-256 of the exact string.
``identity.principals``
    ``ClaimMapping(user_id="sub", groups="groups")``, ``Principal(user_id, groups)``,
    ``principal_from_claims(claims, mapping) -> Principal``.
``identity.resolution``
    ``resolve(provider, principal, candidates) -> Resolution`` (user beats group, tie is
    ``ambiguous_grant``); ``authorize_explicit(grant, principal | None) -> Resolution``.
    ``Resolution(grant, level, reason)``; candidates are anything with ``name``, ``provider``,
    ``principal_kind``, ``principal_id`` (``records.GrantRecord`` fits).
``identity.config``
    ``from_model(models.Identity)`` / ``from_spec(spec.identity dict) -> IdentityConfig``
    (``jwks_url``, ``expected``, ``claims``, ``new_cache()``).

How the sidecar integrates:

1. Per App with ``spec.identity``: ``cfg = config.from_spec(...)``; keep one ``JwksCache``
   (``cfg.new_cache()``) per JWKS URL for the sidecar's lifetime, and one
   ``verification.Verifier(cfg.expected, cache, fetch)``; when the identity settings change,
   build a new ``Verifier`` (keep the cache if ``cfg.same_keys_as(old)``).
2. ``fetch`` is an ``async def fetch(url) -> bytes`` over the sidecar's aiohttp
   ``ClientSession``: GET with a short timeout (e.g. 5 s), ``allow_redirects=False`` (or same
   host only), raise on a non-2xx status, read at most ``jwks.MAX_DOCUMENT_BYTES``. It never
   sends credentials. Optionally call ``cache.refresh(fetch, now)`` at start-up (warm) and from
   a background loop when ``cache.needs_refresh(now)``; lookups also refresh an old set.
3. Per call with ``Strongroom-User-Token``: ``claims = await verifier.verify(token)``;
   ``principal = principals.principal_from_claims(claims, cfg.claims)``; then
   ``resolution.resolve(provider, principal, candidates)`` when only a provider was named, or
   ``resolution.authorize_explicit(record, principal_or_None)`` when a grant was named.
4. On ``IdentityError``: answer ``e.status`` with ``e.code`` (or the sidecar's umbrella
   ``invalid_user_token`` for the token codes in ``errors.TOKEN_CODES``, putting ``e.code`` in
   the audit reason); ``str(e)`` is safe to log and to return as the problem detail.
5. Audit: ``principal`` is ``principal.audit_name`` (``user:<id>``) or the grant's
   ``<kind>:<id>``; ``reason`` is ``Resolution.reason`` on success, the error code and detail on
   refusal. Never the token, never claims beyond the user id.
"""
