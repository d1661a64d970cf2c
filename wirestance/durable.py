"""Making a rename survive a power cut: after os.replace, the directory entry itself must be flushed."""

from __future__ import annotations

import os


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
