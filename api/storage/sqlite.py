"""One SQLite file of the embedded default, shared by the key and list stores.

Each call opens its own short connection in the calling (worker) thread,
because sqlite3 objects are bound to the thread that made them; WAL mode lets
the CLI and a running server use the same file at once. A store that writes
often (the scan history's batches) keeps one connection instead
(:meth:`SqliteFile._run_kept`, closed by :meth:`SqliteFile.close_kept`): closing
the last connection to a WAL file checkpoints it, and opening and closing one per
batch was most of the history's cost under load. Subclasses set
``error`` (the exception their callers expect), ``what`` (for its message),
``schema`` (the statements creating version 1) and ``schema_version``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import ClassVar, TypeVar

import anyio.to_thread

T = TypeVar("T")


class SqliteFile:
    """A SQLite file opened per call, migrated on first use."""

    error: ClassVar[type[Exception]] = RuntimeError
    what: ClassVar[str] = "database"
    schema: ClassVar[tuple[str, ...]] = ()
    schema_version: ClassVar[int] = 1
    synchronous: ClassVar[str] = "FULL"
    """``PRAGMA synchronous`` of every connection: ``FULL`` (SQLite's default, an fsync
    per commit) unless a subclass can afford ``NORMAL`` (in WAL mode: a commit
    survives the process crashing, not always a power loss)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False
        self._kept: sqlite3.Connection | None = None
        self._kept_lock = threading.Lock()

    def _connect(self, *, any_thread: bool = False) -> sqlite3.Connection:
        """A new connection, its pragmas set and the file migrated on first use."""
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=not any_thread)
        try:
            if self.synchronous != "FULL":
                db.execute(f"PRAGMA synchronous = {self.synchronous}")
            if not self._ready:
                self._migrate(db)
                self._ready = True
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(self._connect()) as db, db:  # one transaction, committed or rolled back
                yield db
        except (sqlite3.Error, OSError) as e:
            raise self.error(f"the {self.what} {self.path} failed: {e}") from e

    async def _run_kept(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """As :meth:`_run`, over the one connection this store keeps open (one worker
        thread at a time uses it, under a lock); after an error it is closed, and the
        next call opens a new one."""
        return await anyio.to_thread.run_sync(self._sync_kept, fn)

    def _sync_kept(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._kept_lock:
            try:
                if self._kept is None:
                    self._kept = self._connect(any_thread=True)
                with self._kept:  # one transaction, committed or rolled back
                    return fn(self._kept)
            except (sqlite3.Error, OSError) as e:
                self._close_kept()
                raise self.error(f"the {self.what} {self.path} failed: {e}") from e

    def _close_kept(self) -> None:
        db, self._kept = self._kept, None
        if db is not None:
            with suppress(sqlite3.Error):  # closing a broken connection: nothing to keep
                db.close()

    def close_kept(self) -> None:
        """Close the connection :meth:`_run_kept` keeps, if any (it opens a new one if
        called again)."""
        with self._kept_lock:
            self._close_kept()

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > self.schema_version:
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this program's {self.schema_version}")
        db.execute("PRAGMA journal_mode=WAL")
        if version < 1:
            with db:
                for stmt in self.schema:
                    db.execute(stmt)
                db.execute(f"PRAGMA user_version = {self.schema_version}")

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` with a connection in a worker thread, off the event loop."""
        return await anyio.to_thread.run_sync(self._sync, fn)

    def _sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._db() as db:
            return fn(db)
