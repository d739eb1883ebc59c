"""What every reconcile function needs, passed explicitly (no globals)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from strongroom_core.sealing import publickey
from strongroom_core.storage import ports
from strongroom_operator.controlplane import keyservice
from strongroom_operator.reconcile import secretrefs

if TYPE_CHECKING:
    from strongroom_operator.reconcile import agents


@dataclass(frozen=True, slots=True)
class ReconcileContext:
    storage: ports.Storage
    """Where sealed records, compiled policy and App key documents go."""
    key_service: keyservice.KeyService
    """App data keys, unwrapped with the root keyring (shared with the control plane)."""
    sealing_key: publickey.SealingKey
    """Opens values sealed client-side by `strongroom seal` / `grant import`."""
    clock: Callable[[], float] = field(default=time.time)
    """Unix seconds; tests pass a fixed clock."""
    secrets: secretrefs.SecretReader | None = None
    """Reads the Secrets resources refer to (``spec.oauth2.clientSecretRef``); ``None`` where no
    Secret source exists, and Providers that need one say so in their status."""
    agent_keys: Callable[[agents.IssuedKey], Awaitable[None]] | None = None
    """Hands a newly generated agent key's plaintext over, once (dev mode: a 0600 file; the
    operator: a Secret). ``None``: nothing can, and the Agent's status says to rotate."""
