"""The channel registry: every module in monitor/notify/ that defines `CHANNEL` is a channel type.

A channel type is the one place that knows a channel: the keys of its `[notify.<kind>]` table
(type, default, bounds, beside its code), how they fit together, the channels the table makes
(one, or one per Apprise URL), its notifier, and how an alert reads on it. Config validation,
the outbox, routing and `notify-test` all ask this module, so adding a channel is adding one
module here (apprise finds its plugins the same way).

Every channel module is imported whenever a config loads (`biomon --config X classify` too), so
what it imports at its top stays light: a sending half that needs more (smtplib and ssl,
subprocess and the D-Bus loop, the webhook's payload) lives in `_<kind>_send.py`, which `build`
imports, and a `render` imports monitor.notify.render (html) when it runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from monitor.config import ChannelConfig, NotifyConfig
    from monitor.models import AlertContent, Message
    from monitor.notify.base import Notifier

# Keys every [notify.<kind>] table takes besides its own (config.py reads them).
COMMON_KEYS = (
    "enabled",
    "quiet_hours",
    "timezone",
    "digest_minutes",
    "digest",
    "urgent_tags",
    "subject",
    "body",
)
HTML_KEYS = ("body_html",)  # only channels whose messages carry HTML
# The package's modules that declare no channel: the scan skips them (and their imports).
NOT_CHANNELS = frozenset({"base", "registry", "render", "templates"})


@dataclass(frozen=True)
class Key:
    """One key of a channel's table: its type, default and bounds, checked when the config loads.

    `type`: str, int, bool, (int, float) for a number, list for an array of strings, or
    (list, dict) for an array of strings or a table of named strings.
    """

    type: Any
    default: Any = None
    bounds: tuple[float, float] | None = None  # numbers: (minimum, maximum)
    choices: tuple[str, ...] = ()  # strings: the values allowed
    check: Callable[[str], str | None] | None = None  # a string's problem in words, or None


class SettingError(Exception):
    """A channel's settings do not fit; config.py turns it into a ConfigError at `key`."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


class Secret(str):
    """A string that never shows itself in a repr (a URL holding a token, in a ChannelConfig)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


class ChannelType:
    """What a channel module declares as `CHANNEL`; subclass it and override what differs."""

    kind: ClassVar[str] = ""  # its table, [notify.<kind>], and the name of its one channel
    keys: ClassVar[Mapping[str, Key]] = {}
    html: ClassVar[bool] = False  # its messages carry an HTML body (so `body_html` applies)
    order: ClassVar[int] = 50  # where it comes in listings and in each delivery pass

    def check(self, settings: Mapping[str, Any]) -> None:
        """Raise SettingError when an enabled channel's settings do not fit together."""

    def instances(
        self,
        settings: Mapping[str, Any],
        environ: Mapping[str, str],
        warn: Callable[[str], None],
    ) -> list[tuple[str, dict[str, Any]]]:
        """(channel name, settings) of every channel the table makes: one, named `kind`."""
        return [(self.kind, dict(settings))]

    def build(self, channel: ChannelConfig) -> tuple[Notifier, str | None]:
        """The notifier of one enabled channel, and a warning to show once (or None)."""
        raise NotImplementedError

    def render(self, content: AlertContent, alerted_at: datetime) -> Message:
        """One alert as this channel shows it when the config sets no template."""
        from monitor.notify.render import render_alert

        return render_alert(content, alerted_at)

    def render_digest(
        self, contents: Sequence[AlertContent], alerted_at: datetime, period: str
    ) -> Message:
        """Many alerts in one message (`digest_minutes`)."""
        from monitor.notify.render import render_digest

        return render_digest(contents, alerted_at, period)


@cache
def channel_types() -> dict[str, ChannelType]:
    """Every channel type by kind, found by importing the modules of monitor/notify/."""
    import monitor.notify as package

    found: list[ChannelType] = []
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("_") or module.name in NOT_CHANNELS:
            continue
        declared = getattr(
            importlib.import_module(f"{package.__name__}.{module.name}"), "CHANNEL", None
        )
        if isinstance(declared, ChannelType):
            found.append(declared)
    found.sort(key=lambda t: (t.order, t.kind))
    kinds = [t.kind for t in found]
    duplicates = {k for k in kinds if kinds.count(k) > 1}
    if duplicates:  # two modules claiming one table: a bug, said loudly
        raise RuntimeError(f"two channel modules declare {', '.join(sorted(duplicates))}")
    return {t.kind: t for t in found}


def channel_type(kind: str) -> ChannelType | None:
    """The channel type of `kind` ("email", "apprise", ...), or None."""
    return channel_types().get(kind)


def build_notifiers(notify: NotifyConfig) -> tuple[dict[str, Notifier], list[str]]:
    """A notifier per enabled channel, and one-line warnings to show once.

    Warnings: a desktop that falls back to the log, Apprise not installed (its alerts wait,
    pending, until it is), `urls_env` not set.
    """
    notifiers: dict[str, Notifier] = {}
    warnings = list(notify.warnings)
    for channel in notify.channels:
        if not channel.enabled:
            continue
        notifier, warning = build_channel(channel)
        if warning and warning not in warnings:
            warnings.append(warning)
        if notifier is not None:
            notifiers[channel.name] = notifier
    return notifiers, warnings


def build_channel(channel: ChannelConfig) -> tuple[Notifier | None, str | None]:
    """The notifier of one channel (None: it cannot be built here), and its warning if any."""
    kind = channel_type(channel.kind)
    if kind is None:
        return None, f"{channel.name}: no channel module for {channel.kind!r}"
    return kind.build(channel)


def render(channel: ChannelConfig, content: AlertContent, alerted_at: datetime) -> Message:
    """The message `channel` sends for one alert: its type's layout, or the config's templates."""
    kind = channel_type(channel.kind) or ChannelType()  # no module for it: the stock layout
    message = kind.render(content, alerted_at)
    if channel.subject or channel.body or channel.body_html:
        from monitor.notify.render import html_document
        from monitor.notify.templates import fields, fill

        values = fields(content, alerted_at)
        title = fill(channel.subject, values) if channel.subject else message.title
        text = fill(channel.body, values) if channel.body else message.text
        if channel.body_html:
            body_html = html_document(title, fill(channel.body_html, values, as_html=True))
        else:
            # A text template makes a text-only message: the stock HTML would say otherwise.
            body_html = "" if channel.body else message.html
        message = replace(message, title=" ".join(title.split()), text=text, html=body_html)
    return replace(message, contents=(content,))


def render_digest_for(
    channel: ChannelConfig, contents: Sequence[AlertContent], alerted_at: datetime, period: str
) -> Message:
    """The digest `channel` sends for many alerts (templates apply to single alerts only)."""
    kind = channel_type(channel.kind) or ChannelType()
    message = kind.render_digest(contents, alerted_at, period)
    return replace(message, contents=tuple(contents), digest=period)


def sending_names(module: str, owner: str, names: Sequence[str]) -> Callable[[str], Any]:
    """A module `__getattr__` for a channel module (`owner`): `names` of its sending half
    (`module`), imported on first use, since loading a config needs none of them."""

    def forward(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(module), name)
        raise AttributeError(f"module {owner!r} has no attribute {name!r}")

    return forward
