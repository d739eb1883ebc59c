"""``strongroom-webhook``: run the admission webhook from ``STRONGROOM_WEBHOOK_*`` settings until
SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from strongroom_webhook import server, settings


async def serve(config: settings.WebhookSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server.Webhook(config).running():
        await stop.wait()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = settings.WebhookSettings.from_env()
    except settings.SettingsError as e:
        sys.exit(f"strongroom-webhook: {e}")
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
