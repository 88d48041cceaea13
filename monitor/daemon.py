"""`biomon run`: APScheduler around the poller and the outbox; signals, a lock, a heartbeat.

Polling: every feed has a slot in the poll interval (its phase; a host's feeds evenly apart, see
`schedule.Slots`). The poll thread sleeps until the next slot comes; each tick takes every feed
whose slot has come and polls them in one batched pass (`Poller.poll(urls)`) on the poller's
long-lived pool of `poll.workers` fetch threads. A pass runs in a thread of its own, so a slow
host holds up only the feeds of its pass; a feed is never in two passes at once. APScheduler
runs the other jobs: the heartbeat (which raises the alarm when nothing succeeds) and the
config-file watch. The poller's store work runs under one lock (one connection, one
transaction at a time).

Alerts go out from a thread of their own with a connection of its own: a stalled mail server
never holds the lock polling needs. A poll that queued alerts wakes it at once; otherwise it
looks every `deliver_every` seconds. SIGTERM stops it between two messages and aborts a send in
flight (that alert stays pending), so the daemon exits within seconds whatever the channels do.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from monitor import sdnotify
from monitor.config import Config, load_config
from monitor.errors import BiomonError, ConfigError
from monitor.fetch import HostLimiter
from monitor.models import Message
from monitor.notify.base import NotifyError
from monitor.outbox import Outbox, build_notifiers
from monitor.poller import Poller
from monitor.reminders import catalyst_upkeep
from monitor.rules import tag_rules_for
from monitor.schedule import Slots, crowded_hosts, iso, parse_iso
from monitor.store import Store

log = logging.getLogger("monitor.daemon")
GRACE_SECONDS = 4.0  # for the jobs in flight to finish after SIGTERM
EXIT_SECONDS = 8.0  # after SIGTERM the process is gone within this, whatever hangs
TICK_SECONDS = 0.5  # the shortest time between two ticks: feeds due meanwhile share a pass
LONGEST_SLEEP = 5.0  # the poll thread looks again at least this often (the clock may jump)
CATALYSTS_EVERY = 900.0  # seconds between checks for due catalyst reminders
MAX_PASSES = 4  # passes in flight at once: hosts that hang hold up at most this many


class InstanceLock:
    """An exclusive lock file beside the database; the OS drops it if the process dies."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 (held open for the daemon's life)
        try:
            _lock_file(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise BiomonError(
                f"{self.path.with_suffix('')}: already in use by biomon run ({holder}); "
                "stop that one first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {iso(datetime.now(UTC))}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file:
            self._file.close()
            self._file = None

    def holder(self) -> str | None:
        """Who holds the lock ("pid 123, since ..."), or None when no daemon runs."""
        # Read-only: `biomon status` must work where it may not write (flock needs no write).
        try:
            handle = open(self.path)  # noqa: SIM115
        except FileNotFoundError:
            return None
        except OSError as error:
            return f"unknown ({self.path}: {error.strerror})"
        with handle:
            try:
                _lock_file(handle, shared=True)
            except OSError:
                return handle.read().strip() or "another process"
        return None


def _lock_file(handle, shared: bool = False) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBRLCK if shared else msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)


def in_busy_hours(config: Config, now: datetime) -> bool:
    """True inside the hours when releases cluster (in the daemon's time zone)."""
    local = now.astimezone(ZoneInfo(config.daemon.timezone)).time()
    for start, end in config.daemon.busy_hours:
        inside = start <= local < end if start <= end else (local >= start or local < end)
        if inside:
            return True
    return False


class Daemon:
    """The long-running poller. `run()` returns the exit status."""

    def __init__(
        self,
        config_path: Path,
        now: Callable[[], datetime] | None = None,
        db_path: Path | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self.db_path = Path(db_path).resolve() if db_path else None  # `biomon --db X run`
        self.now = now or (lambda: datetime.now(UTC))
        self.stop = threading.Event()
        self.reload_requested = threading.Event()
        self.lock = threading.RLock()
        self.slots = Slots(salt=socket.gethostname())  # which feed is due when
        self.schedule_lock = threading.Lock()  # around `slots` and `passes_running`
        self.passes_running = 0
        self.active = 0
        self.active_lock = threading.Lock()
        self.deliver_wanted = threading.Event()
        self.poll_wanted = threading.Event()  # a pass ended, or the feeds changed: look again
        self.poller_thread: threading.Thread | None = None
        self.deliver_lock = threading.Lock()  # the outbox's store is used by one thread at once
        self.deliverer: threading.Thread | None = None

    # ---- lifecycle

    def _load(self) -> Config:
        return _with_db(load_config(self.config_path), self.db_path)

    def run(self) -> int:
        self.config = self._load()
        self.config_stamp = _stamp(self.config_path)
        self.instance = InstanceLock(self.config.storage.path)
        self.instance.acquire()
        try:
            storage = self.config.storage
            self.store = Store(storage.path, busy_timeout=storage.busy_timeout)
            self.outbox_store = Store(storage.path, busy_timeout=storage.busy_timeout)
            self.poller = Poller.create(self.config, self.store)
            self.poller.lock = self.lock
            self.poller.should_stop = self.stop.is_set
            self.poller.keep_pool()
            self.passes = ThreadPoolExecutor(MAX_PASSES, thread_name_prefix="pass")
            self._build_outbox()
            recovered = self.outbox.recover()  # claims of a dead deliverer (a crash, a kill -9)
            if recovered:
                log.info("%d alert(s) claimed by a stopped process are pending again", recovered)
            retried = self.outbox.retry_now()  # a restart often follows a fix: try at once
            if retried:
                log.info("%d pending alert(s) will be tried again now", retried)
            self.started = self.now()
            self._beat(started=True)
            self.scheduler = BackgroundScheduler(
                timezone=UTC,
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            )
            self._schedule_feeds()
            daemon = self.config.daemon
            self.deliverer = threading.Thread(
                target=self._deliver_loop, name="deliver", daemon=True
            )
            self.deliverer.start()
            self.poller_thread = threading.Thread(target=self._poll_loop, name="poll", daemon=True)
            self._add_job(self._beat, daemon.heartbeat_every, "heartbeat")
            self._add_job(self._catalysts, CATALYSTS_EVERY, "catalysts")  # reminders, .ics
            self._install_signals()
            self._tell_systemd_ready()
            self.scheduler.start()
            self.poller_thread.start()
            log.info(
                "biomon run: %d feeds, pid %d, database %s",
                len(self.config.feed_urls()),
                os.getpid(),
                self.config.storage.path,
            )
            # The main thread watches the config file (a signal wakes it at once: its handler
            # sets `stop`). A job of APScheduler's every `reload_every` seconds cost the idle
            # daemon more CPU than its polls.
            check_config = self._guarded(self._check_config, "reload")
            while not self.stop.wait(_wait_step(self.config.daemon.reload_every)):
                check_config()
            self._shutdown()
            return 0
        finally:
            self.instance.release()

    def _shutdown(self) -> None:
        sdnotify.stopping()
        log.info("stopping: finishing the work in flight")
        stop_by = time.monotonic() + EXIT_SECONDS
        _exit_anyway_at(stop_by)
        self.deliver_wanted.set()
        self.poll_wanted.set()
        self.scheduler.shutdown(wait=False)
        self.passes.shutdown(wait=False, cancel_futures=True)
        for notifier in self.notifiers.values():
            abort = getattr(notifier, "abort", None)
            if abort:
                abort()  # a send in flight ends now; its alert stays pending
        deadline = time.monotonic() + GRACE_SECONDS
        while self.active and time.monotonic() < deadline:
            time.sleep(0.05)
        self.poller.close()  # aborts a fetch still hanging; its result is discarded
        if self.deliverer:
            self.deliverer.join(max(0.0, deadline - time.monotonic()))
        try:
            with self.lock:
                self.store.record_daemon_stop(iso(self.now()))
        except BiomonError as error:
            log.error("could not record the stop: %s", error)
        self.store.close()
        if self.deliverer is None or not self.deliverer.is_alive():
            self.outbox_store.close()
        log.info("stopped")

    def _tell_systemd_ready(self) -> None:
        """Under systemd (Type=notify): READY=1 now; each heartbeat then feeds its watchdog."""
        every, limit = self.config.daemon.heartbeat_every, sdnotify.watchdog_seconds()
        if limit and every > limit / 2:
            log.warning(
                "[daemon] heartbeat_every (%gs) is not well below the unit's WatchdogSec (%gs): "
                "systemd may kill biomon while it works; keep heartbeat_every under a quarter "
                "of WatchdogSec",
                every,
                limit,
            )
        sdnotify.ready(f"polling {len(self.config.feed_urls())} feeds")

    def _install_signals(self) -> None:
        # Handlers only set events: shutting APScheduler down inside a handler crashed on a
        # double SIGTERM (stack notes).
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())

    # ---- jobs

    def _add_job(self, func: Callable[[], None], seconds: float, job_id: str, jitter=None):
        self.scheduler.add_job(
            self._guarded(func, job_id),
            "interval",
            seconds=seconds,
            jitter=jitter,
            id=job_id,
            replace_existing=True,
            next_run_time=self.now(),
        )

    def _guarded(self, func: Callable[[], None], name: str) -> Callable[[], None]:
        def job() -> None:
            if self.stop.is_set():
                return
            with self.active_lock:
                self.active += 1
            try:
                func()
            except BiomonError as error:  # a full disk, a locked database: one line each time
                log.error("%s: %s", name, error)
            except Exception:  # a job must never take the daemon down
                log.exception("%s failed", name)
            finally:
                with self.active_lock:
                    self.active -= 1

        return job

    def _schedule_feeds(self) -> None:
        """Give every configured feed its slot; one never polled is due at once (its backlog).

        A feed polled before waits for its slot (at most one interval): a restart does not
        ask every feed of a host at once. Called at start and after every config reload.
        """
        urls = self.config.feed_urls()
        interval = self.config.poll.interval
        with self.lock:
            polled = self.store.polled_feeds()
        with self.schedule_lock:
            self.slots.plan(urls, interval, now=self.now().timestamp(), polled=polled)
        gap = self.config.poll.host_gap
        for host, feeds in crowded_hosts(urls, interval, gap).items():
            log.warning(
                "%d feeds on %s take %gs at [poll] host_gap = %g, more than the %ds interval: "
                "they are polled late; raise [poll] interval or lower host_gap",
                feeds, host, feeds * gap, gap, interval,
            )  # fmt: skip

    def _poll_loop(self) -> None:
        """The poll thread: tick when the next slot comes (or when woken) until the daemon stops.

        Ticks are at least TICK_SECONDS apart: with many feeds, those due meanwhile share one
        pass (a pass per feed cost twice the CPU); with few, each is polled at its slot.
        """
        while not self.stop.is_set():
            ticked = time.monotonic()
            try:
                wait = self._tick()
            except Exception:  # the thread must live on
                log.exception("poll failed")
                wait = LONGEST_SLEEP
            self.poll_wanted.wait(wait)
            self.poll_wanted.clear()
            rest = TICK_SECONDS - (time.monotonic() - ticked)
            if rest > 0:
                self.stop.wait(rest)

    def _tick(self) -> float:
        """Start one pass over every feed whose slot has come; return seconds to the next slot."""
        now = self.now()
        idle = self.config.daemon.idle_interval or 4 * self.config.poll.interval
        urls: tuple[str, ...] = ()
        with self.schedule_lock:
            if self.passes_running >= MAX_PASSES:
                return LONGEST_SLEEP  # the due feeds go when a pass ends (it wakes us)
            urls = self.slots.take(
                now.timestamp(), every=idle, quiet=lambda: not in_busy_hours(self.config, now)
            )
            self.passes_running += bool(urls)
            next_at = self.slots.next_due(now.timestamp())
        if urls:
            self.passes.submit(self._guarded(lambda: self._pass(urls), "poll"))
        if next_at is None:
            return LONGEST_SLEEP
        return min(max(next_at - now.timestamp(), 0.0), LONGEST_SLEEP)

    def _pass(self, urls: tuple[str, ...]) -> None:
        try:
            report = self.poller.poll(urls)
        finally:
            with self.schedule_lock:
                # Look again now if this pass held back a tick or feeds due meanwhile.
                wake = self.passes_running >= MAX_PASSES or self.slots.overdue(
                    urls, self.now().timestamp()
                )
                self.slots.finished(urls)
                self.passes_running -= 1
            if wake:
                self.poll_wanted.set()
        if report.new:
            self._catalysts()  # new catalysts may move a date or change the .ics
            self.deliver_wanted.set()  # alert latency is poll latency: send what it queued now

    def _deliver_loop(self) -> None:
        """The delivery thread: send due alerts when woken, or every `deliver_every` seconds."""
        while not self.stop.is_set():
            self.deliver_wanted.wait(self.config.daemon.deliver_every)
            self.deliver_wanted.clear()
            if self.stop.is_set():
                break
            try:
                self._deliver()
            except BiomonError as error:
                log.error("deliver: %s", error)
            except Exception:  # the thread must live on
                log.exception("deliver failed")

    def _catalysts(self) -> None:
        """Queue due catalyst reminders and moved-date alerts; keep the .ics file current."""
        with self.lock:
            upkeep = catalyst_upkeep(self.config, self.store, self.now())
        if upkeep.reminders or upkeep.moved:
            self.deliver_wanted.set()

    def _deliver(self) -> None:
        with self.deliver_lock:
            if self.notifiers:
                self.outbox.deliver()

    def _beat(self, started: bool = False) -> None:
        now = self.now()
        with self.lock:
            state, last_success = self.store.heartbeat(os.getpid(), iso(now), started=started)
        if not started:
            sdnotify.watchdog()  # the heartbeat job ran and the database answered: alive
        self._heartbeat_alarm(state, parse_iso(last_success), now)

    def _heartbeat_alarm(self, state: dict, last_success: datetime | None, now: datetime) -> None:
        after = self.config.daemon.heartbeat_after
        if not after or started_only(state):
            return
        baseline = max(filter(None, [last_success, parse_iso(state["started"])]))
        alarm_since = state.get("alarm_since")
        if not alarm_since and now - baseline > timedelta(seconds=after):
            minutes = (now - baseline).total_seconds() / 60
            text = (
                f"biomon has not polled any feed successfully for {minutes:.0f} minutes "
                f"(last success: {iso(last_success) if last_success else 'none since start'}). "
                f"Check `biomon status` on {socket.gethostname()}."
            )
            if self._alarm(Message("biomon: no successful poll", text, f"<p>{text}</p>")):
                self._set_alarm(iso(now))
        elif alarm_since and last_success and last_success > parse_iso(alarm_since):
            text = f"biomon is polling again: a feed succeeded at {iso(last_success)}."
            if self._alarm(Message("biomon: polling again", text, f"<p>{text}</p>")):
                self._set_alarm(None)

    def _alarm(self, message: Message) -> bool:
        notifier = self.notifiers.get(self.config.daemon.heartbeat_channel)
        log.warning("%s: %s", message.title, message.text)
        if notifier is None:
            return True  # the log line above is the alarm
        try:
            notifier.send(message)
        except NotifyError as error:
            log.warning("heartbeat alarm not sent (will retry): %s", error)
            return False
        return True

    def _set_alarm(self, value: str | None) -> None:
        with self.lock:
            self.store.set_daemon_alarm(value)

    # ---- live config

    def _check_config(self) -> None:
        stamp = _stamp(self.config_path)
        if stamp == self.config_stamp and not self.reload_requested.is_set():
            return
        self.reload_requested.clear()
        self.config_stamp = stamp
        try:
            config = self._load()
            rules = tag_rules_for(config)
        except ConfigError as error:
            log.error("config error: %s (keeping the last good config)", error)
            return
        if config.storage.path != self.config.storage.path:
            log.warning("[storage] path changed: restart biomon run to use the new database")
            config = _with_storage(config, self.config)
        with self.lock, self.deliver_lock:
            removed = set(self.config.feed_urls()) - set(config.feed_urls())
            if removed:  # added again later, a feed's first poll is a backlog, not news
                self.store.forget_feeds(sorted(removed))
            new, old = config.poll, self.config.poll
            if (new.per_host, new.host_gap) != (old.per_host, old.host_gap):
                self.poller.limiter = HostLimiter(new.per_host, new.host_gap)
            self.config = config
            self.poller.config = config
            self.poller.tag_rules = rules
            self.poller.keep_pool()
            self._build_outbox()
            self._schedule_feeds()
        self.poll_wanted.set()
        log.info("config reloaded from %s: %d feeds", self.config_path, len(config.feed_urls()))

    def _build_outbox(self) -> None:
        # On a reload the old channels go (the deliver lock is held: none is sending); one
        # that holds a connection or a thread (desktop's D-Bus loop) is closed, not leaked.
        for old in (getattr(self, "notifiers", None) or {}).values():
            close = getattr(old, "close", None)
            if close is not None:
                try:
                    close()
                except Exception as error:  # noqa: BLE001 - a channel that fails to close
                    log.warning("closing channel %s: %s", getattr(old, "name", old), error)
        self.notifiers, warnings = build_notifiers(self.config.notify)
        for warning in warnings:
            log.warning(warning)
        self.outbox = Outbox(
            self.outbox_store,
            self.config.notify,
            self.notifiers,
            now=self.now,
            should_stop=self.stop.is_set,
            token=getattr(self, "outbox", None) and self.outbox.token,
        )


def daemon_summary(config: Config, store: Store, stale: int) -> list[str]:
    """Lines for `biomon status`: is a daemon running, since when, last poll, pending alerts."""
    holder = InstanceLock(config.storage.path).holder()
    row = store.daemon_row()
    if holder:
        beat = row.get("last_beat") or "never"
        lines = [f"daemon: running ({holder}), last heartbeat {beat}"]
        if row.get("alarm_since"):
            lines.append(f"ALARM: no successful poll since {row['alarm_since']}")
    elif row.get("stopped"):
        lines = [f"daemon: not running (stopped {row['stopped']})"]
    elif row.get("started"):
        lines = [f"daemon: not running (last heartbeat {row.get('last_beat')}; it died?)"]
    else:
        lines = ["daemon: not running (start it with `biomon run`)"]
    last_polled, last_success = store.poll_times()
    counts = store.alert_counts()
    pending = counts.get("pending", 0) + counts.get("sending", 0)
    failed = counts.get("failed", 0)
    lines.append(
        f"last poll: {last_polled or 'never'}; last success: {last_success or 'never'}; "
        f"alerts pending: {pending}, failed: {failed}; stale feeds: {stale}"
    )
    return lines


def _exit_anyway_at(when: float) -> None:
    """Make sure the process ends by `when` (monotonic), even if a thread hangs in a send."""

    def watchdog() -> None:
        time.sleep(max(0.0, when - time.monotonic()))
        log.error("stopping took too long: exiting now (pending alerts stay pending)")
        logging.shutdown()
        os._exit(0)

    threading.Thread(target=watchdog, name="exit-watchdog", daemon=True).start()


def _wait_step(seconds: float) -> float:
    # Windows does not interrupt a wait for Ctrl+C: look at the stop event often there.
    return min(seconds, 0.2) if sys.platform == "win32" else seconds


def started_only(state: dict) -> bool:
    return not state.get("started")


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime, info.st_size


def _with_db(config: Config, db_path: Path | None) -> Config:
    """The config with `--db` in place of `[storage] path`, when given."""
    if db_path is None:
        return config
    from dataclasses import replace

    return replace(config, storage=replace(config.storage, path=db_path))


def _with_storage(config: Config, old: Config) -> Config:
    from dataclasses import replace

    return replace(config, storage=old.storage)
