"""Every Redis key prefix of the service, in one registry.

All keys live under :data:`ROOT`; each store owns one prefix below it, so two
stores never collide and an operator can tell from a key which store wrote it.
"""

from __future__ import annotations

ROOT = "scamscan:"
"""The prefix of every key the service writes."""

APIKEYS = ROOT + "apikeys:"
"""API keys (:mod:`api.storage.apikeys`)."""
SESSIONS = ROOT + "session:"
"""Console sessions (:mod:`api.storage.sessions`)."""
RATELIMIT = ROOT + "ratelimit"
"""The ``limits`` library's rate-limit counters (:mod:`api.auth`; it adds its own ``/``)."""
HISTORY = ROOT + "history:"
"""The scan history (:mod:`api.storage.history`)."""
LISTS = ROOT + "lists:"
"""Analyst list entries, feeds and the list version (:mod:`api.storage.lists`)."""
LIST_FEED = ROOT + "list:"
"""Per feed generations, current generation and status (:mod:`api.storage.lists`)."""
JOBS = ROOT + "job:"
"""APK job records (:mod:`api.queue`)."""
REPORTS = ROOT + "report:"
"""Stored APK reports by scanner version and SHA-256 (:mod:`api.queue`)."""
INFLIGHT = ROOT + "inflight:"
"""The scan of a file in progress, by scanner version and SHA-256 (:mod:`api.queue`)."""
WORKERS = ROOT + "workers"
"""Worker heartbeats, a sorted set (:mod:`api.worker`, :mod:`api.observability`)."""
DRAMATIQ = ROOT + "dramatiq"
"""Dramatiq's namespace (queues, acks, heartbeats) (:mod:`api.broker`)."""
FEEDBACK = ROOT + "feedback:"
"""Feedback on verdicts and its review queue (:mod:`api.storage.feedback`)."""
SHARES = ROOT + "share:"
"""Share links of reports, by token hash and id (:mod:`api.storage.shares`)."""
WEBHOOKS = ROOT + "webhook:"
"""Webhook deliveries, the due set and the per-key signing secrets (:mod:`api.storage.webhooks`)."""
