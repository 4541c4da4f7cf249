"""Storage: where the API keeps keys, sessions, lists, the scan history,
feedback and share links.

Stores know nothing of HTTP (no FastAPI or Starlette import here). Which
backend serves each store (SQLite files or process memory when embedded,
Redis with ``SCAMSCAN_REDIS_URL``) is decided in one place,
:func:`api.storage.factory.open_storage`. Every Redis client is built by
:mod:`api.storage.redis`; every Redis key starts with a prefix of
:mod:`api.storage.prefixes`. The embedded stores' file names are in
:mod:`api.storage.files`.

A store that fails raises a subclass of one root exception (in
:mod:`api.storage.errors`; :mod:`api.problems` answers each with a 503 problem
and ``Retry-After``)::

    StorageUnavailable
     ├── KeyStoreUnavailable        api.storage.apikeys
     ├── SessionStoreUnavailable    api.storage.sessions
     ├── ListStoreUnavailable       api.storage.lists
     ├── HistoryUnavailable         api.storage.history
     ├── FeedbackStoreUnavailable   api.storage.feedback
     ├── ShareStoreUnavailable      api.storage.shares
     ├── QueueUnavailable           api.queue (the Redis job queue)
     └── WebhookStoreUnavailable    api.storage.webhooks
"""
