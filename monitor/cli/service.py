"""Run `biomon run` as a service: a systemd user unit (Linux) or a launchd agent (macOS).

`service_text()` fills the shipped templates (config/biomon.service, config/biomon.plist) with the
absolute command of the biomon that is running now, so the unit works whether biomon came from
pipx, `uv tool install` or a venv (a service manager knows neither $PATH nor ~).
`write_service_unit()` installs the file where the service manager looks for it; `biomon
service` prints or writes it (`biomon init --service` calls the same functions).
"""

from __future__ import annotations

import os
import plistlib
import re
import sys
from pathlib import Path

import click

from monitor.cli.app import Context, cli
from monitor.errors import BiomonError
from monitor.resources import bundled

KINDS = ("systemd", "launchd")
LAUNCHD_LABEL = "com.biomon.run"


def default_kind() -> str:
    return "launchd" if sys.platform == "darwin" else "systemd"


def biomon_command() -> list[str]:
    """The absolute command that starts this biomon: its `biomon` script, else python -m monitor.

    Paths are made absolute but symlinks are kept: a venv's python is a symlink whose target is
    not the venv, and pipx's ~/.local/bin/biomon survives pipx moving its venvs.
    """
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started and started.name in ("biomon", "biomon.exe") and started.is_file():
        return [os.path.abspath(started)]
    python = Path(os.path.abspath(sys.executable))
    beside = python.parent / ("biomon.exe" if os.name == "nt" else "biomon")
    if beside.is_file():  # `python -m monitor` in a venv that has the script too
        return [str(beside)]
    return [str(python), "-m", "monitor"]


def service_path(kind: str) -> Path:
    """Where the service manager looks for biomon's unit (user-level, no root needed)."""
    if kind == "launchd":
        return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "systemd" / "user" / "biomon.service"


def _arguments(config_path: Path | None, db_path: Path | None, command: list[str] | None):
    arguments = list(command or biomon_command())
    if config_path:
        arguments += ["--config", os.path.abspath(config_path)]
    if db_path:
        arguments += ["--db", os.path.abspath(db_path)]
    return [*arguments, "run"]


def systemd_quote(argument: str) -> str:
    """One ExecStart argument: `%` and `$` escaped, quoted when it holds blanks or quotes."""
    argument = argument.replace("%", "%%").replace("$", "$$")
    if re.search(r"[\s\"'\\;]", argument) or not argument:
        argument = '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return argument


def service_text(
    kind: str = "systemd",
    config_path: Path | str | None = None,
    db_path: Path | str | None = None,
    command: list[str] | None = None,
) -> str:
    """The unit (systemd) or plist (launchd) for `biomon [--config F] [--db D] run`.

    `command` is what starts biomon (default: this one, `biomon_command()`).
    """
    arguments = _arguments(
        Path(config_path) if config_path else None, Path(db_path) if db_path else None, command
    )
    if kind == "systemd":
        template = (bundled("config") / "biomon.service").read_text(encoding="utf-8")
        exec_start = "ExecStart=" + " ".join(systemd_quote(a) for a in arguments)
        text, count = re.subn(r"(?m)^ExecStart=.*$", lambda _: exec_start, template)
        if count != 1:
            raise BiomonError(f"{bundled('config') / 'biomon.service'}: no ExecStart line")
        return text
    if kind == "launchd":
        template = (bundled("config") / "biomon.plist").read_bytes()
        plist = plistlib.loads(template)
        log = str(Path.home() / "Library" / "Logs" / "biomon.log")
        plist |= {
            "Label": LAUNCHD_LABEL,
            "ProgramArguments": arguments,
            "StandardOutPath": log,
            "StandardErrorPath": log,
        }
        text = plistlib.dumps(plist, sort_keys=False).decode("utf-8")
        comment = re.search(r"<!--.*?-->\n", template.decode("utf-8"), re.DOTALL)
        if comment:  # plistlib drops comments: keep the template's how-to
            head, _, body = text.partition("<plist")
            text = head + comment.group(0) + "<plist" + body
        return text
    raise BiomonError(f"unknown service kind {kind!r}; one of {', '.join(KINDS)}")


def next_steps(kind: str, path: Path) -> list[str]:
    """The commands that start the installed service and show its log."""
    if kind == "launchd":
        domain = "gui/$(id -u)"
        return [
            f"launchctl bootstrap {domain} {path}",
            f"launchctl print {domain}/{LAUNCHD_LABEL} | head   # is it running?",
            f"tail -f {Path.home() / 'Library' / 'Logs' / 'biomon.log'}",
        ]
    return [
        "systemctl --user daemon-reload && systemctl --user enable --now biomon",
        'loginctl enable-linger "$USER"   # keep it running while you are logged out',
        "journalctl --user -u biomon -f",
    ]


def write_service_unit(
    kind: str | None = None,
    config_path: Path | str | None = None,
    db_path: Path | str | None = None,
    path: Path | str | None = None,
    force: bool = False,
    command: list[str] | None = None,
) -> tuple[Path, bool]:
    """Write the unit to `path` (default: where the service manager looks); (path, written).

    An existing file with the same text is left alone (written is False); one with other text
    is an error unless `force` (a unit someone edited is not overwritten silently).
    """
    kind = kind or default_kind()
    target = Path(path) if path else service_path(kind)
    text = service_text(kind, config_path, db_path, command)
    try:
        current = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    except OSError as error:
        raise BiomonError(f"{target}: cannot read: {error.strerror}") from None
    if current == text:
        return target, False
    if current is not None and not force:
        raise BiomonError(
            f"{target} exists and differs; compare with `biomon service --print`, "
            "then pass --force to replace it"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    except OSError as error:
        raise BiomonError(f"{target}: cannot write: {error.strerror}") from None
    return target, True


@cli.command()
@click.option(
    "--print", "action", flag_value="print", default=True, help="Print the unit (the default)."
)
@click.option("--write", "action", flag_value="write", help="Install it for your user.")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="systemd (Linux) or launchd (macOS); default: this system's.",
)
@click.option("--force", is_flag=True, help="With --write: replace a unit that differs.")
@click.pass_obj
def service(obj: Context, action: str, kind: str | None, force: bool) -> None:
    """Run `biomon run` as a service: print or install a systemd unit or launchd agent.

    `biomon init --service` installs the same unit right after writing your config.
    """
    kind = kind or default_kind()
    obj.config  # noqa: B018 (the service would exit 2 at once on a missing or broken config)
    config_path, db_path = obj.config_path, obj.db_path
    if action == "print":
        click.echo(service_text(kind, config_path, db_path), nl=False)
        return
    path, written = write_service_unit(kind, config_path, db_path, force=force)
    click.echo(f"{'wrote' if written else 'unchanged:'} {path}")
    click.echo("next:")
    for step in next_steps(kind, path):
        click.echo(f"  {step}")
