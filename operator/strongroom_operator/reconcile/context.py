"""What every reconcile function needs, passed explicitly (no globals)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom_core.sealing import publickey, rootkeys
from strongroom_core.storage import ports


@dataclass(frozen=True, slots=True)
class ReconcileContext:
    storage: ports.Storage
    """Where sealed records, compiled policy and App key documents go."""
    root_store: rootkeys.RootKeyStore
    """The root keyring that wraps App data keys."""
    sealing_key: publickey.SealingKey
    """Opens values sealed client-side by `strongroom seal` / `grant import`."""
    clock: Callable[[], float] = field(default=time.time)
    """Unix seconds; tests pass a fixed clock."""
