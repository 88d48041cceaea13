"""[notify.apprise]: every Apprise URL is a channel of its own (the optional `biomon[apprise]`).

    [notify.apprise]
    urls = ["ntfys://ntfy.sh/biomon-7f3a", "tgram://123456:ABC-token/987654"]
    urls_env = "BIOMON_APPRISE_URLS"   # more URLs from the environment (secrets stay out of files)
    timeout = 30                       # seconds one send may take in all

or, to route by name (`channels = ["phone"]` in a [[watch]]):

    [notify.apprise.urls]
    phone = "ntfys://ntfy.sh/biomon-7f3a"
    team = "slack://T000/B000/XXXX"

Channel names, which the outbox keys its exactly-once on, never change when URLs are
reordered: a named URL is its name (`phone`), stable even when its token is rotated; an unnamed
one is `apprise:<scheme>-<8 hex>`, the hex a SHA-256 of the URL without its query, so options
(`?priority=high`) can change freely but a new token or topic is a new channel (alerts pending
on the old one wait until the old URL is back; name a URL to rotate its token safely). The
hash reveals nothing usable of a token. `urls_env` holds entries separated by spaces or
newlines, each `URL` or `name=URL`.

Secrets: a URL is shown only masked (`ntfys://ntfy.sh/***`: scheme, a public host name, port),
and every part of it that might be a token is scrubbed from Apprise's error text before it
reaches a log, `biomon alerts` or `status`. Apprise's own log stays out of biomon's: its lines
come, scrubbed, through the `monitor.notify.apprise` logger at DEBUG (`-v`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from monitor.models import AlertContent, Message
from monitor.notify.base import Deadline, Notifier, NotifyError
from monitor.notify.registry import ChannelType, Key, Secret, SettingError

if TYPE_CHECKING:
    from monitor.config import ChannelConfig

log = logging.getLogger("monitor.notify.apprise")

INSTALL = "pip install 'biomon[apprise]'"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_NAMED = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]{0,39})=([A-Za-z][A-Za-z0-9+.-]*://\S*)")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_PUBLIC_HOST = re.compile(r"localhost|[0-9a-z-]+(\.[0-9a-z-]+)+|\[[0-9a-f:.]+\]", re.IGNORECASE)
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")
RESERVED = ("apprise", "desktop", "email", "webhook", "log")


class AppriseChannel(ChannelType):
    """[notify.apprise]: urls (array, or table of named URLs), urls_env, timeout."""

    kind = "apprise"
    order = 40
    keys = {
        "urls": Key((list, dict), ()),
        "urls_env": Key(str, ""),  # a variable holding more URLs: "URL" or "name=URL" entries
        "timeout": Key((int, float), 30, bounds=(1, 600)),
    }

    def check(self, settings: Mapping[str, Any]) -> None:
        if not settings["urls"] and not settings["urls_env"]:
            raise SettingError(
                "urls", 'missing; list Apprise URLs (urls = ["ntfys://ntfy.sh/topic"]) or urls_env'
            )

    def instances(
        self,
        settings: Mapping[str, Any],
        environ: Mapping[str, str],
        warn: Callable[[str], None],
    ) -> list[tuple[str, dict[str, Any]]]:
        entries = _configured(settings["urls"])
        variable = settings["urls_env"]
        if variable:
            value = environ.get(variable)
            if value is None:
                warn(f"apprise: urls_env {variable} is not set; no Apprise URLs from it")
            else:
                entries += _from_environment(variable, value)
        made: dict[str, dict[str, Any]] = {}
        for name, url, key, where in entries:
            problem = url_problem(url)
            if problem:
                raise SettingError(key, f"{where}: {problem}")
            if name is not None:
                if not _NAME.fullmatch(name) or name in RESERVED:
                    raise SettingError(
                        key,
                        f"{where}: {name!r} cannot name a channel; use letters, digits, - or _ "
                        f"(not {', '.join(RESERVED)})",
                    )
            channel = name or auto_name(url)
            if channel in made:
                raise SettingError(key, f"{where}: channel {channel} is listed twice")
            made[channel] = {"url": Secret(url), "timeout": settings["timeout"]}
        return list(made.items())

    def build(self, channel: ChannelConfig) -> tuple[Notifier | None, str | None]:
        try:
            import apprise  # noqa: F401
        except ImportError:
            return None, (
                f"apprise is not installed ({INSTALL}); Apprise alerts stay pending until it is"
            )
        return AppriseNotifier(
            channel.setting("url"), channel.setting("timeout"), channel.name
        ), None

    def render(self, content: AlertContent, alerted_at: datetime) -> Message:
        from monitor.notify.render import desktop_text, safe_href

        title, body = desktop_text(content)
        link = safe_href(content.url)
        return Message(title=title, text=f"{body}\n{link}" if link else body, html="")


CHANNEL = AppriseChannel()


class AppriseNotifier:
    """Sends title and text (as plain text: Apprise escapes it for services that read HTML)."""

    def __init__(self, url: str, timeout: float = 30.0, name: str = "") -> None:
        self.url = url
        self.timeout = float(timeout)
        self.name = name or auto_name(url)
        self.shown = mask_url(url)
        self._deadline = Deadline(self.timeout)

    @property
    def deadline(self) -> float:
        """The longest one send may take in all (Apprise's own timeouts are per request)."""
        return self.timeout

    def probe(self) -> str | None:
        """None when Apprise is installed and understands the URL."""
        try:
            import apprise
        except ImportError:
            return f"apprise is not installed ({INSTALL})"
        with _captured():
            if apprise.Apprise.instantiate(self.url) is None:
                return f"{self.shown}: Apprise cannot use this URL"
        return None

    def abort(self) -> None:
        """Stop waiting for the send in flight, and refuse new ones (the daemon is stopping)."""
        self._deadline.abort()

    def send(self, message: Message) -> None:
        """Deliver through Apprise, or NotifyError with Apprise's reason, secrets scrubbed."""
        self._deadline.run(lambda: self._send(message), self.shown, self.name)

    def _send(self, message: Message) -> None:
        import apprise

        # A fresh Apprise per send: nothing shared with a send given up on at its deadline.
        client = apprise.Apprise()
        with _captured() as lines:
            if not client.add(self.url):
                raise NotifyError(f"{self.shown}: Apprise cannot use this URL", self.name)
            delivered = client.notify(
                body=message.text or " ",
                title=message.title,
                body_format=apprise.NotifyFormat.TEXT,
            )
        said = [scrub(line, self.url) for _, line in lines]
        for line in said:
            log.debug("%s: %s", self.name, line)
        if not delivered:
            raise NotifyError(f"{self.shown}: {_reason(lines, self.url)}", self.name)


def url_problem(url: str) -> str | None:
    """Why `url` is no Apprise URL, without quoting it (it may hold a token)."""
    if not _URL.fullmatch(url):
        return "not a URL of the form scheme://...; see https://github.com/caronc/apprise/wiki"
    try:
        import apprise
    except ImportError:
        return None  # checked when Apprise is there; build() says it is missing
    with _captured():
        usable = apprise.Apprise.instantiate(url) is not None
    if not usable:
        scheme = url.split("://", 1)[0]
        return (
            f"Apprise cannot use this {scheme}:// URL (unknown scheme, or a part missing); "
            "see https://github.com/caronc/apprise/wiki"
        )
    return None


def auto_name(url: str) -> str:
    """`apprise:<scheme>-<8 hex>`: the channel name of an unnamed URL (query left out)."""
    scheme, _, rest = url.partition("://")
    target = rest.split("?", 1)[0].split("#", 1)[0]
    digest = hashlib.sha256(f"{scheme.lower()}://{target}".encode()).hexdigest()[:8]
    return f"apprise:{scheme.lower()}-{digest}"


def mask_url(url: str) -> str:
    """The URL as biomon shows it: scheme, a public host name and port, the rest `***`."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    netloc, _, query = netloc.partition("?")
    auth = ""
    if "@" in netloc:
        auth, netloc = "***@", netloc.rsplit("@", 1)[1]
    host, colon, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    if not port.isdigit():
        host, port = netloc, ""
    shown = host if _PUBLIC_HOST.fullmatch(host) else "***"
    tail = "/***" if (path.strip("/") or query) else ""
    return f"{scheme}://{auth}{shown}{':' + port if port else ''}{tail}"


def scrub(text: str, url: str) -> str:
    """`text` with the URL and every part of it that is not shown by mask_url put as `***`."""
    visible = set(re.split(r"[/:@?&=#]+", mask_url(url).partition("://")[2]))
    rest = url.partition("://")[2]
    # Whole segments first (a bot token "123:ABC" is one secret), then their pieces; a
    # segment made only of what is shown anyway ("127.0.0.1:8080") stays readable.
    parts = set()
    for segment in re.split(r"[/?&#]+", rest):
        pieces = {p for p in re.split(r"[:@=,;+]+", segment) if len(p) >= 3} - visible
        if pieces:
            parts |= pieces | {segment}
    parts |= {unquote(p) for p in parts}
    for secret in sorted([url, *parts], key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _configured(urls: Any) -> list[tuple[str | None, str, str, str]]:
    """(name, URL, config key, where) of every URL in the file."""
    if urls and isinstance(urls[0], tuple):  # a table: named URLs
        return [(name, url, f"urls.{name}", f"urls.{name}") for name, url in urls]
    return [(None, url, f"urls[{i}]", f"urls[{i}]") for i, url in enumerate(urls)]


def _from_environment(variable: str, value: str) -> list[tuple[str | None, str, str, str]]:
    entries = []
    for number, entry in enumerate(value.split(), start=1):
        named = _NAMED.fullmatch(entry)
        name, url = (named.group(1), named.group(2)) if named else (None, entry)
        entries.append((name, url, "urls_env", f"entry {number} of ${variable}"))
    return entries


def _reason(lines: list[tuple[int, str]], url: str) -> str:
    """Why Apprise did not deliver, from its log: its last warning, and the OS error if any."""
    warnings = [line for level, line in lines if level >= logging.WARNING]
    reason = warnings[-1] if warnings else "the service did not accept the message"
    errno = next((m.group() for _, line in lines if (m := _ERRNO.search(line))), None)
    if errno and errno not in reason:
        reason = f"{reason} ({errno.strip()})"
    return " ".join(scrub(reason, url).split())[:300]


class _Collector(logging.Handler):
    """Apprise says why a send failed only in its log: keep its lines for the sends in flight."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.active: dict[int, list[tuple[int, str]]] = {}
        self.guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.guard:
            for lines in self.active.values():
                lines.append((record.levelno, record.getMessage()))


_collector = _Collector()
_setup = threading.Lock()


@contextmanager
def _captured() -> Iterator[list[tuple[int, str]]]:
    """(level, line) of everything Apprise logs meanwhile; none of it reaches biomon's log."""
    with _setup:
        apprise_log = logging.getLogger("apprise")
        if _collector not in apprise_log.handlers:
            apprise_log.addHandler(_collector)
            apprise_log.setLevel(logging.DEBUG)
            apprise_log.propagate = False  # its lines may carry what we scrub: only ours go out
    lines: list[tuple[int, str]] = []
    with _collector.guard:
        _collector.active[id(lines)] = lines
    try:
        yield lines
    finally:
        with _collector.guard:
            del _collector.active[id(lines)]
