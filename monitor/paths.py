"""Where biomon's files are: the config file a command uses, and the user's data folder.

Kept apart from monitor.config (which reads and checks the file) so that commands that may run
without a config, such as `biomon classify`, find out whether there is one cheaply.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = Path("config") / "biomon.toml"  # the checkout's, last in the lookup order
APP_NAME = "biomon"


def user_config_path() -> Path:
    """The config file in the user's config folder: what `biomon init` writes.

    click's folder for the app: `$XDG_CONFIG_HOME/biomon` or `~/.config/biomon` on Linux,
    `~/Library/Application Support/biomon` on macOS, `%APPDATA%\\biomon` on Windows.
    """
    import click  # click decides the folder (as `biomon init` documents it)

    return Path(click.get_app_dir(APP_NAME)) / "biomon.toml"


def user_data_dir() -> Path:
    """The user's data folder for biomon (platformdirs' user_data_dir, without the dependency).

    Linux and other Unixes: `$XDG_DATA_HOME/biomon` (an absolute value only, as the XDG spec
    says), else `~/.local/share/biomon`; macOS: `~/Library/Application Support/biomon`;
    Windows: `%LOCALAPPDATA%\\biomon`.
    """
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    data_home = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data_home):
        data_home = str(Path.home() / ".local" / "share")
    return Path(data_home) / APP_NAME


def default_db_path() -> Path:
    """The database when `[storage] path` is not set: biomon.db in the user data folder."""
    return user_data_dir() / "biomon.db"


@dataclass(frozen=True)
class ConfigChoice:
    """Which config file a command uses, and why (`biomon status` says both)."""

    path: Path
    source: str  # "--config", "$BIOMON_CONFIG", "user config folder", "./config/biomon.toml"
    found: bool = True  # False: no file anywhere; `path` is where `biomon init` would write


def find_config(explicit: str | os.PathLike | None) -> ConfigChoice:
    """`--config PATH`, else `$BIOMON_CONFIG`, else the user config file, else
    `./config/biomon.toml` (a checkout's); the first two are used whether or not they exist
    (a missing file is then an error naming it), the last two only when they exist."""
    if explicit:
        return ConfigChoice(Path(explicit), "--config")
    if os.environ.get("BIOMON_CONFIG"):
        return ConfigChoice(Path(os.environ["BIOMON_CONFIG"]), "$BIOMON_CONFIG")
    user = user_config_path()
    if user.is_file():
        return ConfigChoice(user, "user config folder")
    if DEFAULT_CONFIG.is_file():
        return ConfigChoice(DEFAULT_CONFIG.absolute(), "./config/biomon.toml")
    return ConfigChoice(user, "user config folder", found=False)


def resolve_path(explicit: str | os.PathLike | None) -> Path:
    """The config file to read: see `find_config` for the order."""
    return find_config(explicit).path
