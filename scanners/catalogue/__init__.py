"""The rule data of :mod:`scanners.rules`, one module per scope, and its types.

Import rules through :mod:`scanners.rules`; add a rule in the module of its scope
(``url.py``, ``message.py``, ``apk.py``).
"""
