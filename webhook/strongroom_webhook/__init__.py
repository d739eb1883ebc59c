"""Strongroom's admission webhook: injects the sidecar into pods that opt in.

The admission pipeline is :mod:`mutating`; the process is :class:`server.Webhook`; settings are
:class:`settings.WebhookSettings` (``STRONGROOM_WEBHOOK_*``); TLS lives in :mod:`certs`.
"""

from strongroom_webhook.mutating import Denied, Mutator
from strongroom_webhook.server import Webhook
from strongroom_webhook.settings import WebhookSettings

__all__ = ["Denied", "Mutator", "Webhook", "WebhookSettings"]
