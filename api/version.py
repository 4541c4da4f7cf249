"""The installed package's version (``0+unknown`` in a tree never installed)."""

from __future__ import annotations

from importlib import metadata


def _version() -> str:
    try:
        return metadata.version("scamscan")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0+unknown"


VERSION = _version()
