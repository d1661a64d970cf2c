"""The discovery tests share the archive fixtures with the archive tests."""

# The archive fixtures (tests/support/archive_fixtures.py): loopback archive server, settings, stand-in model.
from archive_fixtures import archive_server, config, loopback_only, model, settings

__all__ = ["archive_server", "config", "loopback_only", "model", "settings"]
