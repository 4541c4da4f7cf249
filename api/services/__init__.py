"""Services: what the routes, the console and the CLI do, between storage and HTTP.

* :mod:`api.services.container`: :class:`~api.services.container.Services`, every
  service of one app, built once in the lifespan;
* :mod:`api.services.scans`: link scans, APK uploads and scan views (routes and
  console call the same functions);
* :mod:`api.services.history`: the scan history (recording, search);
* :mod:`api.services.lists`: analyst entries, feeds and the dynamic list view.

API keys are checked by :class:`api.auth.Authenticator`; console sessions
are kept in :mod:`api.storage.sessions`. Services raise the stores'
:class:`~api.storage.errors.StorageUnavailable`; :mod:`api.problems` answers it.
"""
