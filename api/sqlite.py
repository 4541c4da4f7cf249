"""One SQLite file of the embedded default, shared by the key and list stores.

Each call opens its own short connection in the calling (worker) thread,
because sqlite3 objects are bound to the thread that made them; WAL mode lets
the CLI and a running server use the same file at once. Subclasses set
``error`` (the exception their callers expect), ``what`` (for its message) and
implement ``_migrate``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import ClassVar


class SqliteFile:
    """A SQLite file opened per call, migrated on first use."""

    error: ClassVar[type[Exception]] = RuntimeError
    what: ClassVar[str] = "database"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=5.0)) as db:
                if not self._ready:
                    self._migrate(db)
                    self._ready = True
                with db:  # one transaction, committed or rolled back
                    yield db
        except (sqlite3.Error, OSError) as e:
            raise self.error(f"the {self.what} {self.path} failed: {e}") from e

    def _migrate(self, db: sqlite3.Connection) -> None:
        raise NotImplementedError
