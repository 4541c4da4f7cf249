"""Every file name of the embedded stores under ``SCAMSCAN_DATA_DIR``, in one registry.

The counterpart of :mod:`api.storage.prefixes` for the embedded mode. It imports
nothing, so that a command can tell whether a store exists (``scamscan url`` asks
whether analyst lists were ever written) without importing the stores, Redis's
client among them.
"""

from __future__ import annotations

KEYS_FILE = "keys.sqlite3"
"""API keys (:mod:`api.storage.apikeys`)."""
KEYS_MADE_FILE = "keys-made"
"""The marker that API keys were made here once."""
HISTORY_FILE = "history.sqlite3"
"""Scan history (:mod:`api.storage.history`)."""
SHARES_FILE = "shares.sqlite3"
"""Shared report links (:mod:`api.storage.shares`)."""
LISTS_FILE = "lists.sqlite3"
"""Analyst entries and feeds (:mod:`api.storage.lists`)."""
WEBHOOKS_FILE = "webhooks.sqlite3"
"""Webhook subscriptions and deliveries (:mod:`api.storage.webhooks`)."""
SERVER_SECRET_FILE = "webhook-secret"  # noqa: S105 - a file name, not a secret
"""The server's webhook signing secret."""
FEEDBACK_FILE = "feedback.sqlite3"
"""Verdict feedback (:mod:`api.storage.feedback`)."""
