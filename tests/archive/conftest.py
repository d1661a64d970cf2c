"""The archive tests share the archive fixtures with the discovery tests; test modules here import each other."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The archive fixtures (tests/support/archive_fixtures.py): loopback archive server, settings, stand-in model.
from archive_fixtures import archive_server, config, loopback_only, model, settings

__all__ = ["archive_server", "config", "loopback_only", "model", "settings"]
