"""Per-partition locks so a scheduled run and a backfill never rewrite the same partition at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

_process_locks: dict[str, threading.Lock] = {}
_registry = threading.Lock()


def _thread_lock(name: str) -> threading.Lock:
    with _registry:
        return _process_locks.setdefault(name, threading.Lock())


@contextlib.contextmanager
def partition_lock(lock_dir: str | None, name: str) -> Iterator[None]:
    """Hold the lock called `name`: across threads always, across processes where the lake is local.

    `lock_dir` is None for object stores, where a single committing writer per partition is assumed
    (document it where such a lake is configured).
    """
    with _thread_lock(name):
        if lock_dir is None:
            yield
            return
        Path(lock_dir).mkdir(parents=True, exist_ok=True)
        path = os.path.join(lock_dir, name.replace("/", "__") + ".lock")
        with open(path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
