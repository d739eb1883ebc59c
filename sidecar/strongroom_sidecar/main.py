"""``strongroom-sidecar``: settings from the environment, run until SIGTERM, stop gracefully."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys

from strongroom_sidecar import app, logs
from strongroom_sidecar import settings as settings_module

log = logs.get("main")


async def run(settings: settings_module.SidecarSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sidecar = app.Sidecar(settings)
    await sidecar.start()
    # What exists now (modules, settings, servers) lives as long as the process: move it out of
    # the collector's generations, so a full collection scans only what calls allocate.
    gc.freeze()
    try:
        await stop.wait()
        log.info("signal received; stopping gracefully")
    finally:
        await sidecar.stop()


def main() -> None:
    logs.configure()
    try:
        settings = settings_module.SidecarSettings.from_env()
    except settings_module.SettingsError as e:
        print(f"strongroom-sidecar: {e}", file=sys.stderr)
        sys.exit(2)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
