"""Notification channels: one module per channel type, found through `registry`.

A module here that defines `CHANNEL` (a `registry.ChannelType`) is a channel: it declares the
keys of its `[notify.<kind>]` table, builds its notifier (`base.Notifier`: send, probe) and
renders alerts (`render`, or the config's `templates`). desktop (and its log fallback), email,
webhook and apprise are the ones biomon ships.
"""

from monitor.notify.base import Notifier, NotifyError

__all__ = ["Notifier", "NotifyError"]
