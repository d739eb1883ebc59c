"""The app side of the kind end-to-end test: one call through the sidecar with the SDK, as an
application would make it, from a pod the webhook injected. It holds no credential; success
means the sidecar injected the right one (the upstream answers 2xx and ``EXPECT_KEY`` is true in
its JSON).

Settings (environment): ``E2E_URL`` the upstream URL, ``E2E_GRANT`` the grant, ``E2E_EXPECT_KEY``
a key of the JSON answer that must be true (empty: only the status counts), ``E2E_WAIT_SECONDS``
how long to keep trying while the sidecar or the grant is not ready yet. ``STRONGROOM_URL`` (set
by the webhook) says where the sidecar listens.

Prints one JSON line: ``{"status": ..., "ok": ..., "attempts": ...}``; exit code 0 when ok.
"""

from __future__ import annotations

import json
import os
import sys
import time

import strongroom

RETRYABLE = (
    strongroom.SidecarUnavailable,
    strongroom.GrantNotFound,
    strongroom.CredentialUnavailable,
)
"""Not ready yet: the sidecar is starting, or the operator has not sealed the grant yet."""


def call(url: str, grant: str, expect_key: str, wait_seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + wait_seconds
    attempts = 0
    with strongroom.App(grant=grant) as app:
        while True:
            attempts += 1
            try:
                response = app.get(url, reason="strongroom kind end-to-end test")
            except RETRYABLE as e:
                if time.monotonic() >= deadline:
                    return {"ok": False, "error": type(e).__name__, "attempts": attempts}
                time.sleep(2)
                continue
            ok = response.is_success
            if ok and expect_key:
                try:
                    ok = response.json().get(expect_key) is True
                except ValueError:
                    ok = False
            return {"status": response.status_code, "ok": ok, "attempts": attempts}


def main() -> int:
    result = call(
        os.environ["E2E_URL"],
        os.environ["E2E_GRANT"],
        os.environ.get("E2E_EXPECT_KEY", ""),
        float(os.environ.get("E2E_WAIT_SECONDS", "120")),
    )
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
