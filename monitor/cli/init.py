"""`biomon init`: write a commented starter config for the user, then say what to run next.

The config is made from the shipped example (config/biomon.toml, package data in a wheel): its
comments stay, its watchlist is replaced by the tickers given (`--ticker`, or asked), and the
contact in the User-Agent by `--email` (or asked): wires block anonymous pollers. `[storage]
path` stays commented out, so the database lives in the user data folder.

It goes where biomon looks first without options: `--config PATH`, else `$BIOMON_CONFIG`, else
the user config folder (`click.get_app_dir`: ~/.config/biomon/biomon.toml on Linux). An existing
file is never overwritten. `--service` also installs the systemd unit or launchd agent (as
`biomon service --write`) that runs `biomon run` with this config.

Without a terminal (a script, CI) nothing is asked: `--ticker` and `--email` are then required,
and their absence is a one-line usage error (no guessed watchlist, no placeholder contact).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path

import click

from monitor.cli.app import Context, cli
from monitor.config import find_config, load_config, parse_config, user_config_path
from monitor.errors import BiomonError, ConfigError
from monitor.models import Ticker
from monitor.resources import bundled
from monitor.tickers import known_exchange, parse_ticker

_EMAIL = re.compile(r"[^\s@\"\\()]+@[^\s@\"\\()]+\.[^\s@\"\\()]+")
_URL = re.compile(r"https?://[^\s\"\\()]+\.[^\s\"\\()]+")
_COMPANY_PLACEHOLDER = '# company = "Company name"         # matched in the issuer name too'


def parse_tickers(values: list[str] | tuple[str, ...]) -> list[Ticker]:
    """`CLRB`, `NASDAQ:CLRB`, `NYSE American:PTN`, or several in one value (`CLRB SNGX`,
    `CLRB, NASDAQ:SNGX`), each symbol once."""
    tickers: list[Ticker] = []
    for value in values:
        for word in _ticker_words(value):
            ticker = parse_ticker(word)
            if ticker is None:
                raise click.BadParameter(
                    f"{word!r} is not a ticker; write e.g. CLRB or NASDAQ:CLRB",
                    param_hint="--ticker",
                )
            if any(t.symbol == ticker.symbol for t in tickers):
                raise click.BadParameter(f"{ticker.symbol} is given twice", param_hint="--ticker")
            tickers.append(ticker)
    return tickers


def _ticker_words(value: str) -> list[str]:
    """Split on commas, semicolons and blanks, but keep an exchange name of several words
    (`NYSE American:PTN`) with its symbol."""
    words: list[str] = []
    for chunk in re.split(r"[,;]", value):
        for word in re.sub(r"\s*:\s*", ":", chunk).split():
            exchange = word.partition(":")[0] if ":" in word else ""
            for count in range(len(words), 0, -1):  # the longest known name first
                if exchange and known_exchange(" ".join([*words[-count:], exchange])):
                    word = " ".join([*words[-count:], word])
                    del words[-count:]
                    break
            words.append(word)
    return words


def check_contact(value: str) -> str:
    """An email address (or a URL) for the User-Agent; a usage error otherwise."""
    value = value.strip()
    if not (_EMAIL.fullmatch(value) or _URL.fullmatch(value)):
        raise click.BadParameter(
            f"{value!r} is not an email address; the wires want a contact, "
            "e.g. --email you@example.com",
            param_hint="--email",
        )
    return value


def starter_config(
    example: str,
    tickers: list[Ticker],
    contact: str,
    db_path: Path | None = None,
) -> str:
    """The example config with these tickers as the watchlist and this contact.

    Each [[watch]] follows the example's: an example entry for the same symbol keeps its
    company; alert_tags is commented out (every release alerts until you choose tags); the
    example's how-to comments are kept in the first entry only.
    """
    paragraphs = example.rstrip("\n").split("\n\n")
    watches = [p for p in paragraphs if p.startswith("[[watch]]")]
    if not watches:
        raise BiomonError("the example config has no [[watch]] entry to start from")
    by_symbol = {}
    for paragraph in watches:
        match = re.search(r'(?m)^ticker = "([^"]*)"', paragraph)
        ticker = parse_ticker(match.group(1)) if match else None
        if ticker:
            by_symbol[ticker.symbol] = paragraph
    entries = [
        _watch_entry(by_symbol.get(t.symbol, watches[0]), t, t.symbol in by_symbol, first=i == 0)
        for i, t in enumerate(tickers)
    ]
    first = paragraphs.index(watches[0])
    kept = [p for p in paragraphs if p not in watches]
    kept[first:first] = entries
    text = "\n\n".join(kept) + "\n"
    symbols = ", ".join(t.symbol for t in tickers)
    text = re.sub(
        r"\A# biomon watchlist:[^\n]*",
        lambda _: f"# biomon watchlist for {symbols}, written by `biomon init` from the example.",
        text,
        count=1,
    )
    text, count = re.subn(
        r'(?m)^(user_agent = "[^"(]*\()[^")]*(\)")',
        lambda m: m.group(1) + contact + m.group(2),
        text,
        count=1,
    )
    if count != 1:
        raise BiomonError('the example config has no user_agent = "biomon/... (contact)" line')
    if db_path is not None:
        text, count = re.subn(
            r'(?m)^# path = ".*"$', lambda _: f"path = {json.dumps(str(db_path))}", text, count=1
        )
        if count != 1:
            raise BiomonError("the example config has no commented [storage] path line")
    return text


def _watch_entry(paragraph: str, ticker: Ticker, known: bool, first: bool) -> str:
    lines = []
    for line in paragraph.splitlines():
        if line.startswith("#"):
            if first:
                lines.append(line)
            continue
        key = line.split("=", 1)[0].strip()
        if key == "ticker":
            value = json.dumps(str(ticker))
            line = re.sub(r'"[^"]*"', lambda _, v=value: v, line, count=1)
            if not first:
                line = line.split("#", 1)[0].rstrip()
        elif key == "company" and not known:
            line = _COMPANY_PLACEHOLDER
        elif key == "alert_tags":
            line = "# " + line
        lines.append(line)
    return "\n".join(lines)


def _ask_tickers() -> list[Ticker]:
    def convert(text: str) -> list[Ticker]:
        tickers = parse_tickers([text])
        if not tickers:
            raise click.BadParameter("name at least one ticker")
        return tickers

    return click.prompt(
        "Tickers to watch (e.g. CLRB SNGX, or NASDAQ:CLRB)", value_proc=convert, err=True
    )


def _ask_contact() -> str:
    return click.prompt(
        "Your email for the User-Agent (the wires block anonymous pollers)",
        value_proc=check_contact,
        err=True,
    )


def _command_prefix(target: Path) -> str:
    """`biomon`, or `biomon --config PATH` when biomon would not find `target` by itself."""
    found = find_config(None)
    if found.found and os.path.abspath(found.path) == os.path.abspath(target):
        return "biomon"
    return f"biomon --config {shlex.quote(str(target))}"


@cli.command()
@click.option(
    "--ticker",
    "tickers",
    multiple=True,
    metavar="TICKER",
    help="A ticker to watch: CLRB or NASDAQ:CLRB (repeatable). Asked for when not given.",
)
@click.option(
    "--email",
    help="Your contact for the User-Agent (wires block anonymous pollers). Asked for when not "
    "given.",
)
@click.option(
    "--service",
    is_flag=True,
    help="Also install the systemd user unit (Linux) or launchd agent (macOS) for `biomon run`.",
)
@click.pass_obj
def init(obj: Context, tickers: tuple[str, ...], email: str | None, service: bool) -> None:
    """Write your config (to the user config folder) and say what to run next.

    Never overwrites an existing file. Where: --config PATH, else $BIOMON_CONFIG, else
    ~/.config/biomon/biomon.toml (Linux; click's app folder on macOS and Windows). The database
    goes to the user data folder (~/.local/share/biomon/biomon.db on Linux) unless --db.
    """
    explicit = obj.explicit_config or os.environ.get("BIOMON_CONFIG")
    target = Path(explicit) if explicit else user_config_path()
    if target.exists() or target.is_symlink():
        if not service:
            raise BiomonError(
                f"{target} exists and biomon init never overwrites it; edit it in a text "
                "editor, or write another with `biomon --config PATH init`"
            )
        config = load_config(target)  # the unit runs it: a broken file would exit 2 at once
        click.echo(f"kept {target} (it exists)")
    else:
        config = _write_config(obj, target, tickers, email)
    prefix = _command_prefix(target)
    steps = [f"{prefix} poll --once".ljust(34) + "# the first pass stores the backlog, no alerts"]
    if service:
        from monitor.cli.service import default_kind, next_steps, write_service_unit

        kind = default_kind()
        path, written = write_service_unit(kind, target.absolute())
        click.echo(f"{'wrote' if written else 'unchanged:'} {path}")
        steps += next_steps(kind, path)
    else:
        steps.append(
            f"{prefix} run".ljust(34) + "# poll all day and alert (as a service: "
            f"{prefix} init --service)"
        )
    steps.append(f"{prefix} history --watched".ljust(34) + "# what your watchlist caught")
    click.echo(f"database: {config.storage.path}")
    click.echo("next:")
    for step in steps:
        click.echo(f"  {step}")


def _write_config(obj: Context, target: Path, tickers: tuple[str, ...], email: str | None):
    interactive = sys.stdin.isatty()
    wanted = parse_tickers(tickers)
    contact = check_contact(email) if email is not None else None
    missing = [name for name, value in (("--ticker", wanted), ("--email", contact)) if not value]
    if missing and not interactive:
        raise click.UsageError(
            f"no terminal to ask on: pass {' and '.join(missing)} "
            "(e.g. biomon init --ticker CLRB --email you@example.com)"
        )
    if not wanted:
        wanted = _ask_tickers()
    if contact is None:
        contact = _ask_contact()
    example_path = bundled("config") / "biomon.toml"
    try:
        example = example_path.read_text(encoding="utf-8")
    except OSError as error:
        raise BiomonError(f"{example_path}: cannot read: {error.strerror}") from None
    db_path = obj.db_path.absolute() if obj.db_path else None
    text = starter_config(example, wanted, contact, db_path)
    try:
        config = parse_config(tomllib.loads(text), target)
    except (tomllib.TOMLDecodeError, ConfigError) as error:  # a bug: the example changed
        raise BiomonError(f"the starter config would not load: {error}") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as out:  # "x": never over an existing file
            out.write(text)
    except FileExistsError:
        raise BiomonError(f"{target} exists and biomon init never overwrites it") from None
    except OSError as error:
        raise BiomonError(f"{target}: cannot write: {error.strerror}") from None
    click.echo(
        f"wrote {target}: watching {', '.join(str(t) for t in wanted)}; "
        f"contact {contact} in the User-Agent"
    )
    click.echo("edit it for company names, organization feeds, alert_tags and email alerts")
    return config
