"""scamscan's domain logic: normalisation, scanners, rules and the aggregate.

Pure Python with no web-framework imports, so that the API, the CLI, the
worker and the evaluation scripts all share it. The extension point is
:mod:`scanners.base`; points come only from :mod:`scanners.rules`.

Every exception raised on purpose derives from one root
(:mod:`scanners.errors`)::

    ScamscanError
    ├── InputError                 the caller's input cannot be analysed
    │   └── InvalidURLError        a URL or host that cannot be normalised
    ├── DataError                  bundled or configured data is missing or corrupt
    ├── ScanIncomplete             a check could not run (fully); carries partial findings
    └── StoreError                 the cache / store backend failed
"""
