"""The kind end-to-end test's audit check: the ``strongroom audit query --json`` output (one
event per line, in a file) holds the Job's call: a ``use`` event for grant e2e-basic to
postman-echo.com, allowed, answered 200, made by the injected pod (caller ``pod/e2e-client-…``).

Usage: python tests/e2e/auditcheck.py AUDIT.jsonl → exit 0 and the event id, or 1 and why.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

EXPECTED = {
    "kind": "use",
    "namespace": "default",
    "app": "demo",
    "grant": "e2e-basic",
    "provider": "e2e-basic",
    "host": "postman-echo.com",
    "status": 200,
    "decision": "allow",
}
CALLER_PREFIX = "pod/e2e-client-"


def matching(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [
        e
        for e in events
        if all(e.get(k) == v for k, v in EXPECTED.items())
        and str(e.get("caller", "")).startswith(CALLER_PREFIX)
    ]


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: auditcheck.py AUDIT.jsonl", file=sys.stderr)
        return 2
    events = read(Path(argv[0]))
    found = matching(events)
    if not found:
        print(
            f"auditcheck: no event like {EXPECTED} from {CALLER_PREFIX}… among {len(events)}",
            file=sys.stderr,
        )
        return 1
    print(f"auditcheck: found {found[0].get('id')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
