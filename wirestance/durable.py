"""Writes that survive a crash: flushing a rename's directory entry, clearing the temporary files a killed
write leaves behind, and telling early (one line) that a storage root cannot be written at all."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import time
import uuid

import fsspec

log = logging.getLogger(__name__)

#: Names of wirestance's own temporary files: the raw archive's `.<name>.tmp-<32 hex>`, the JSONL and model
#: registry's `.<name>.<32 hex>.tmp`, and the staging file the Delta writer (delta-rs's object_store) puts
#: beside a lake data file until it is whole, `<data file>.parquet#<n>`. Nothing else is ever touched.
_TEMPORARY = re.compile(r"^(\..+(\.tmp-[0-9a-f]{32}|\.[0-9a-f]{32}\.tmp)|.+\.parquet#\d+)$")
#: A temporary file younger than this may belong to a write in progress in another process.
STALE_AFTER_SECONDS = 3600.0


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temporary_name(name: str) -> bool:
    return _TEMPORARY.match(name) is not None


def remove_stale_temporaries(root_url: str, *, older_than: float = STALE_AFTER_SECONDS) -> list[str]:
    """Delete wirestance temporary files under a local storage root that no live writer holds.

    A temporary file is stale when its writer holds no lock on it (writers that lock theirs, such as
    `classify`) or, for the others, when it was last written more than `older_than` seconds ago. Returns
    the paths removed; a root that is not local or does not exist is left alone.
    """
    fs, root = fsspec.core.url_to_fs(root_url)
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" not in protocols or not os.path.isdir(root):
        return []
    removed: list[str] = []
    now = time.time()
    for directory, _, names in os.walk(root):
        for name in names:
            if not is_temporary_name(name):
                continue
            path = os.path.join(directory, name)
            try:
                if _held_by_a_writer(path) or now - os.stat(path).st_mtime < older_than:
                    continue
                os.remove(path)
            except OSError:
                continue  # gone meanwhile, or not ours to remove
            removed.append(path)
    if removed:
        log.warning("removed %d temporary files left by interrupted writes under %s", len(removed), root)
    return removed


def _held_by_a_writer(path: str) -> bool:
    with open(path, "rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def unwritable_reason(root_url: str) -> str | None:
    """Why nothing can be written under a local storage root (read-only, full, not a folder), or None.

    Creates the root if missing and writes and removes one small probe file. Object stores are not probed.
    """
    fs, root = fsspec.core.url_to_fs(root_url)
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" not in protocols:
        return None
    probe = os.path.join(root, f".write-probe-{uuid.uuid4().hex}")
    try:
        os.makedirs(root, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"probe")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return f"{root} cannot be written: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):
            os.remove(probe)
    return None
