"""Every biomon exception.

BiomonError            base; the CLI prints str(error) on one line
├── ConfigError        a config file is missing, not TOML, or has a wrong key/value (exit 2)
├── FeedError          one feed could not be fetched or read (reported per feed, never fatal)
└── StoreError         the database cannot be opened or is not a biomon database
"""

from __future__ import annotations

from pathlib import Path


class BiomonError(Exception):
    """Base class of every error biomon raises on purpose."""


class ConfigError(BiomonError):
    """A config file problem, located by file and key."""

    def __init__(self, path: Path | str, key: str | None, message: str) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {message}")


class FeedError(BiomonError):
    """A feed failed; the message is the one-line reason (`HTTP 503`, `timeout after 20s`)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class StoreError(BiomonError):
    """The database cannot be used."""
