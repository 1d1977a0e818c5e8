"""Where the broker's config managers keep their files: config/topics.json, subscriptionGroup.json,
consumerOffset.json under storePathRootDir (BrokerPathConfigHelper), and the broker config file itself.

Java's ConfigManager.load/persist read the file (falling back to `.bak`) and write tmp, `.bak`, rename. The
crash-safe writer lives in rocketpy.store.config_files (tmp + fsync + rename + fsynced `.bak`); this module is
the one place the broker touches it, behind a small ConfigStore protocol that tests can replace with a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from rocketpy.store import config_files

TOPICS_JSON = "topics.json"
SUBSCRIPTION_GROUP_JSON = "subscriptionGroup.json"
CONSUMER_OFFSET_JSON = "consumerOffset.json"

T = TypeVar("T")


class ConfigStore(Protocol):
    """Load and persist whole config files by name."""

    def load(self, name: str, parse: Callable[[str], T]) -> T | None:
        """`parse` of the file's text, or of its backup when the file is missing, blank or `parse` raises
        ValueError; None if neither works (ConfigManager.load then loadBak)."""

    def persist(self, name: str, text: str) -> None:
        """Replace the file atomically (a crash leaves the old or the new text)."""


class FileConfigStore:
    """Config files in one directory (storePathRootDir/config)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, name: str) -> Path:
        return self.directory / name

    def load(self, name: str, parse: Callable[[str], T]) -> T | None:
        return config_files.read_config_file(self.path(name), parse)

    def persist(self, name: str, text: str) -> None:
        config_files.write_config_file(self.path(name), text)


class MemoryConfigStore:
    """An in-memory ConfigStore for tests and for a broker run without a store directory."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def load(self, name: str, parse: Callable[[str], T]) -> T | None:
        text = self.files.get(name)
        if text is None or not text.strip():
            return None
        try:
            return parse(text)
        except ValueError:
            return None

    def persist(self, name: str, text: str) -> None:
        self.files[name] = text
