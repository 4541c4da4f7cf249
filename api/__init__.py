"""scamscan's edges: the HTTP API (:mod:`api.main`) and the command line (:mod:`api.cli`).

Kept import-light on purpose: the CLI imports this package, and a batch scan
must not pay for FastAPI's start-up.
"""
