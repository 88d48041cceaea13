"""Standard logging: one line per event on stderr, plain text or JSON for machines.

Levels, for `biomon run` and every other command alike: biomon's own loggers (`monitor.*`) log
INFO (`run`) or WARNING (one-shot commands); `-v` adds biomon's DEBUG lines; `-vv` adds the
libraries' (httpx, httpcore, apscheduler and the rest), which otherwise say only WARNING and up.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Chatty at INFO/DEBUG (every HTTP request, every scheduler tick): WARNING unless -vv.
LIBRARIES = ("httpx", "httpcore", "apscheduler")

# Log lines that restate what a one-shot command prints itself: `poll` prints each feed's
# outcome and each item it could not store (the poller logs them for `biomon run`), and each
# alert that could not be sent (the outbox logs them). Dropped unless -v, so every failure is
# printed once. (logger name, function name) of the logging call.
REPORTED = {("monitor.poller", "_log"), ("monitor.outbox", "_failed")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (as logging's lastResort does), so
    a handler set up under a redirected stderr (click's test runner) never writes to a closed
    stream later."""

    biomon = True  # ours: replaced by the next setup, other handlers are left alone

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class DropReported(logging.Filter):
    """Drops the log lines listed in REPORTED (the command has printed them already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.name, record.funcName) not in REPORTED


def setup_logging(
    fmt: str = "text", verbose: int | bool = 0, *, daemon: bool = True
) -> logging.Handler:
    """Log to stderr (what systemd, cron and terminals expect).

    `verbose`: 0 (or False) is INFO for `biomon run` (`daemon`), WARNING for one-shot commands;
    1 (-v, or True) adds biomon's DEBUG lines; 2 (-vv) adds the libraries' DEBUG lines too.
    One-shot commands (`daemon=False`) log without timestamps unless -v, and leave out the lines
    that restate their own report (REPORTED) unless -v.
    """
    verbosity = int(verbose)
    handler = StderrHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    elif daemon or verbosity:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("biomon: %(message)s"))
    if not daemon and not verbosity:
        handler.addFilter(DropReported())
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "biomon", False)]
    root.addHandler(handler)
    base = logging.INFO if daemon else logging.WARNING
    root.setLevel(logging.DEBUG if verbosity >= 2 else base)
    logging.getLogger("monitor").setLevel(logging.DEBUG if verbosity >= 1 else logging.NOTSET)
    for noisy in LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    return handler
