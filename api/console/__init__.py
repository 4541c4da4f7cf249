"""The analyst web console: server-rendered pages over the same API, keys and roles.

Kept import-light on purpose: :mod:`api.auth` imports
:mod:`api.storage.sessions`, so this package must not pull in the routes (and
Jinja2) when it is imported. The routes are in :mod:`api.console.routes`.
"""
