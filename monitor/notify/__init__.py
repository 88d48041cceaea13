"""Notification channels: one module per channel, all behind `base.Notifier`.

`render` turns an `AlertContent` into a `Message`; `email`, `desktop` (and its `log`
fallback) deliver one.
"""

from monitor.notify.base import Notifier, NotifyError

__all__ = ["Notifier", "NotifyError"]
