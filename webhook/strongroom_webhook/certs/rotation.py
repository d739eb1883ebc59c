"""What the shared TLS state should become at a moment: a pure function, so every replica
decides the same thing and the rules are testable with a clock in hand.

The state is at most two CAs (oldest first) and one serving certificate. A CA rotation:

1. the newest CA nears its end (``ca_renew_before``): a new CA joins the bundle; the served
   certificate is still signed by the old CA, so nothing changes for any client;
2. once the new CA has been published for ``overlap``: the next serving certificate is signed by
   it (every API server has had time to load the bundle holding both);
3. once the new CA has been published for twice ``overlap``: the old CA leaves the bundle (every
   replica has long reloaded the new certificate).

A serving certificate is renewed ``cert_renew_before`` its end, when its DNS names changed, or
at step 2; it never outlives its CA.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
from collections.abc import Mapping, Sequence

from strongroom_webhook.certs import authority

CA_CERT, CA_KEY, PREVIOUS_CA_KEY = "ca.crt", "ca.key", "previous-ca.key"
TLS_CERT, TLS_KEY = "tls.crt", "tls.key"


@dataclasses.dataclass(frozen=True)
class Timing:
    ca_validity: datetime.timedelta
    ca_renew_before: datetime.timedelta
    cert_validity: datetime.timedelta
    cert_renew_before: datetime.timedelta
    overlap: datetime.timedelta


@dataclasses.dataclass(frozen=True)
class TlsState:
    cas: tuple[authority.KeyPair, ...]
    """Oldest first; one, or two during a rotation. All of them are in the bundle."""
    serving: authority.KeyPair

    @property
    def bundle(self) -> bytes:
        """The PEM bundle clients (the API server's ``caBundle``) trust."""
        return b"".join(ca.cert_pem for ca in self.cas)

    def to_data(self) -> dict[str, str]:
        """Secret ``data`` (base64 values)."""
        raw = {
            CA_CERT: self.bundle,
            CA_KEY: self.cas[-1].key_pem,
            TLS_CERT: self.serving.cert_pem,
            TLS_KEY: self.serving.key_pem,
        }
        if len(self.cas) > 1:
            raw[PREVIOUS_CA_KEY] = self.cas[0].key_pem
        return {k: base64.b64encode(v).decode("ascii") for k, v in raw.items()}

    @classmethod
    def from_data(cls, data: Mapping[str, str]) -> TlsState:
        """``ValueError`` when the Secret does not hold a usable state."""
        try:
            raw = {k: base64.b64decode(v, validate=True) for k, v in data.items()}
            certs = _split_pem(raw[CA_CERT])
            keys = [raw[PREVIOUS_CA_KEY], raw[CA_KEY]] if len(certs) == 2 else [raw[CA_KEY]]
            if len(certs) != len(keys):
                raise ValueError(f"{len(certs)} CA certificates in {CA_CERT}")
            state = cls(
                cas=tuple(authority.KeyPair(c, k) for c, k in zip(certs, keys, strict=True)),
                serving=authority.KeyPair(raw[TLS_CERT], raw[TLS_KEY]),
            )
            for pair in (*state.cas, state.serving):
                pair.cert  # noqa: B018  (parses, or raises ValueError)
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"not a usable webhook TLS state: {type(e).__name__}") from None
        return state


def _split_pem(bundle: bytes) -> list[bytes]:
    marker = b"-----BEGIN CERTIFICATE-----"
    return [marker + part for part in bundle.split(marker)[1:]]


def fresh(now: datetime.datetime, timing: Timing, dns_names: Sequence[str]) -> TlsState:
    ca = authority.issue_ca(now, timing.ca_validity)
    return TlsState((ca,), authority.issue_serving(ca, dns_names, now, timing.cert_validity))


def plan(
    state: TlsState | None, now: datetime.datetime, timing: Timing, dns_names: Sequence[str]
) -> TlsState | None:
    """The next state, or ``None`` when ``state`` is fine as it is."""
    if state is None or now >= state.cas[-1].not_after:
        return fresh(now, timing, dns_names)
    cas = list(state.cas)
    if cas[-1].not_after - now < timing.ca_renew_before:
        cas.append(authority.issue_ca(now, timing.ca_validity))
    newest = cas[-1]
    newest_published = now - newest.issued_at
    signer = next((ca for ca in cas if ca.signed(state.serving)), None)
    serving = state.serving
    if (
        signer is None
        or serving.not_after - now < timing.cert_renew_before
        or sorted(serving.dns_names()) != sorted(dns_names)
        or (signer is not newest and newest_published >= timing.overlap)
    ):
        issuer = newest
        if signer is not None and signer is not newest and newest_published < timing.overlap:
            issuer = signer  # the new CA is not yet in every API server's bundle
        serving = authority.issue_serving(issuer, dns_names, now, timing.cert_validity)
        signer = issuer
    kept = [
        ca
        for ca in cas
        if ca is newest
        or ca is signer
        or (newest_published < 2 * timing.overlap and ca.not_after > now)
    ]
    if len(kept) > 2:
        kept = [signer, newest] if signer is not newest else kept[-2:]
    new_state = TlsState(tuple(kept), serving)
    if new_state.cas == state.cas and new_state.serving == state.serving:
        return None
    return new_state
