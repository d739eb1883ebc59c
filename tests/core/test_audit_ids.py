"""Audit event ids: unique within a process, across processes and in a forked child."""

from __future__ import annotations

import os
import subprocess
import sys

from strongroom_core import audit


def test_event_ids_are_32_hex_characters_and_never_repeat_in_a_process() -> None:
    ids = [audit.new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_another_process_draws_another_prefix() -> None:
    other = subprocess.run(
        [sys.executable, "-c", "from strongroom_core import audit; print(audit.new_event_id())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert other[:16] != audit.new_event_id()[:16]


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave without running pytest's teardown
        os.close(read)
        os.write(write, audit.new_event_id().encode())
        os._exit(0)
    os.close(write)
    try:
        child = os.read(read, 64).decode()
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    assert len(child) == 32
    assert child[:16] != audit.new_event_id()[:16]
