"""The storage failures: one root, :class:`StorageUnavailable`, one subclass per store.

Stores raise these and know nothing of HTTP; :mod:`api.problems` maps every
one of them to a 503 problem with ``Retry-After`` in one exception handler
(:func:`api.problems.storage_problem` says which words each one gets).
"""

from __future__ import annotations


class StorageUnavailable(Exception):
    """A store's backend failed (Redis down or slow, a SQLite file unusable).

    ``reason`` says what failed, for the log; callers never show it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyStoreUnavailable(StorageUnavailable):
    """The API key store (:mod:`api.storage.apikeys`) failed."""


class SessionStoreUnavailable(StorageUnavailable):
    """The console session store (:mod:`api.storage.sessions`) failed."""


class ListStoreUnavailable(StorageUnavailable):
    """The list store (:mod:`api.storage.lists`) failed."""


class HistoryUnavailable(StorageUnavailable):
    """The scan history's backend (:mod:`api.storage.history`) failed."""


class QueueUnavailable(StorageUnavailable):
    """The Redis job queue (:mod:`api.queue`) cannot be reached."""


class FeedbackStoreUnavailable(StorageUnavailable):
    """The feedback store (:mod:`api.storage.feedback`) failed."""


class ShareStoreUnavailable(StorageUnavailable):
    """The share store (:mod:`api.storage.shares`) failed."""
class WebhookStoreUnavailable(StorageUnavailable):
    """The webhook store (:mod:`api.storage.webhooks`: deliveries, signing secrets) failed."""
