from __future__ import annotations

from pathlib import Path

import pytest

from monitor.demo import FeedServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets empty user config and data folders (biomon init, the default database):
    nothing reads or writes the real ~/.config/biomon or ~/.local/share/biomon."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("BIOMON_CONFIG", raising=False)
    return home


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 serving canned routes (FeedServer.add)."""
    with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
def write_config(tmp_path):
    """Write a config file from TOML text; return its path."""

    def write(text: str, name: str = "biomon.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def config_text(
    feeds: list[str], watch: str = "", db: str = "biomon.db", timeout: float = 5
) -> str:
    listed = ", ".join(f'"{url}"' for url in feeds)
    return (
        f'[storage]\npath = "{db}"\n[poll]\ninterval = 60\nuser_agent = "biomon-test/0.1"\n'
        f"timeout = {timeout}\nfeeds = [{listed}]\n{watch}"
    )
