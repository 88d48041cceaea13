"""Commands about alerts: alerts (the outbox), notify-test, watch-test (a preview)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from monitor.cli.app import Context, cli
from monitor.errors import BiomonError
from monitor.output import write_alerts

STATUSES = ("pending", "sending", "sent", "logged", "demo", "failed")


@cli.command()
@click.option("--status", type=click.Choice(STATUSES), help="Only alerts in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def alerts(obj: Context, status: str | None, limit: int, fmt: str) -> None:
    """List alerts: pending, sent and failed (with the reason), newest first."""
    from monitor.outbox import alert_rows

    store = obj.store(readonly=True)
    try:
        rows = alert_rows(store, status, limit)
    finally:
        store.close()
    write_alerts(rows, fmt, sys.stdout)


@cli.command("notify-test")
@click.option(
    "--channel",
    metavar="NAME",
    help="A channel (email, webhook, phone, apprise:ntfy-...) or a type (apprise). "
    "Default: every enabled channel.",
)
@click.pass_obj
def notify_test(obj: Context, channel: str | None) -> None:
    """Send a test alert and say in one line per channel what failed (DNS, TLS, auth, HTTP...)."""
    from monitor.models import AlertContent, Facts
    from monitor.notify.base import NotifyError
    from monitor.notify.registry import build_channel, render

    notify = obj.config.notify
    chosen = [c for c in notify.channels if c.enabled]
    if channel:
        chosen = [c for c in chosen if channel in (c.name, c.kind)]
    if not chosen:
        known = ", ".join(dict.fromkeys([*notify.names, *(c.kind for c in notify.channels)]))
        raise BiomonError(
            f"{obj.config.path}: no enabled channel{' ' + repr(channel) if channel else ''}; "
            f"set enabled = true under [notify.<type>] (channels: {known})"
        )
    for warning in notify.warnings:
        click.echo(warning, err=True)
    now = datetime.now(UTC)
    content = AlertContent(
        source="biomon",
        release_id="test",
        title="biomon test alert: your notifications work",
        url="https://www.globenewswire.com/",
        tickers=("NASDAQ:CLRB",),
        issuer="biomon",
        primary="other",
        tags=("other",),
        evidence=(("other", ("This is a test alert sent by `biomon notify-test`.",)),),
        facts=Facts(),
        published_utc=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        rule="test",
        ticker="TEST",
    )
    failed = False
    for config in chosen:
        notifier, warning = build_channel(config)
        # A channel that would only reach the log (no desktop) has not passed the test.
        if notifier is None or getattr(notifier, "outcome", "sent") != "sent":
            click.echo(f"{config.name}: FAILED {warning or 'cannot be built here'}")
            failed = True
            continue
        try:
            notifier.send(render(config, content, now))
        except NotifyError as error:
            click.echo(f"{config.name}: FAILED {error}")
            failed = True
        else:
            click.echo(f"{config.name}: sent")
    if failed:
        sys.exit(1)


@cli.command("watch-test")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="How far back: 30d, 12h, or a day (YYYY-MM-DD, UTC).",
)
@click.option(
    "--watch", "watch_name", metavar="NAME", help="Only this watch (its ticker or label)."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--limit", default=5000, show_default=True, type=click.IntRange(min=1))
@click.pass_obj
def watch_test(obj: Context, since: str, watch_name: str | None, fmt: str, limit: int) -> None:
    """Replay stored releases through the current rules: what would have alerted, on which
    channels. Nothing is sent or queued."""
    import json

    from monitor.query import ReleaseQuery
    from monitor.rules import preview, resolve_query

    config = obj.config
    watches = config.watch
    if watch_name:
        watches = tuple(w for w in watches if watch_name.lower() in _watch_names(w))
        if not watches:
            names = ", ".join(w.label for w in config.watch) or "none"
            raise click.BadParameter(f"no watch {watch_name!r}; the watches: {names}")
    start = _since(since, datetime.now(UTC))
    store = obj.store(readonly=True)
    try:
        rows = store.query(ReleaseQuery(since=start, limit=limit))
        candidates = [
            (row["id"], _stored_release(row), _stored_classification(row, store.tags_of(row["id"])))
            for row in reversed(rows)  # oldest first, as they came
            if not row.get("duplicate_of")  # a copy never alerts
        ]
        found = preview(
            candidates,
            watches,
            config.notify.enabled,
            lambda row_id, text: store.matches(row_id, resolve_query(config, text)),
        )
    finally:
        store.close()
    if fmt == "json":
        for item in found:
            record = {
                "release": item.reference,
                "published": item.published_utc,
                "title": item.title,
                "alerts": [{"rule": rule, "channels": list(ch)} for rule, ch in item.alerts],
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    for item in found:
        routes = "; ".join(f"{rule} -> {', '.join(ch)}" for rule, ch in item.alerts)
        click.echo(
            f"{(item.published_utc or '?')[:16].replace('T', ' ')}  {item.reference}  {routes}"
        )
        click.echo(f"    {item.title}")
    alerts = sum(len(item.channels) for item in found)
    click.echo(
        f"{len(found)} of {len(candidates)} releases since {start[:10]} would have alerted "
        f"({alerts} alert{'' if alerts == 1 else 's'}); nothing was sent or queued"
    )


def _watch_names(watch) -> set[str]:
    names = {watch.label.lower(), watch.company.lower()}
    if watch.ticker:
        names |= {watch.ticker.symbol.lower(), str(watch.ticker).lower()}
    return names - {""}


def _since(value: str, now: datetime) -> str:
    """`30d`, `12h` or `2026-11-01` as an ISO UTC instant."""
    from datetime import timedelta

    from monitor.cli.app import parse_day

    text = value.strip().lower()
    if text[:-1].isdigit() and text[-1:] in ("d", "h"):
        hours = int(text[:-1]) * (24 if text.endswith("d") else 1)
        moment = now - timedelta(hours=min(hours, 24 * 365 * 100))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    day = parse_day(value, "--since")
    return f"{day.isoformat()}T00:00:00Z"


def _stored_release(row: dict):
    """A stored release (a decoded store row) as the rules see it."""
    from monitor.models import Release
    from monitor.tickers import parse_ticker

    tickers = tuple(t for t in (parse_ticker(text) for text in row["tickers"]) if t)
    return Release(
        source=row["source"],
        release_id=row["release_id"],
        url=row["url"] or "",
        title=row["title"],
        summary_html=row.get("summary_html") or "",
        text=row.get("text") or "",
        published_utc=row.get("published_utc"),
        published_raw=row.get("published_raw") or "",
        issuer=row.get("issuer") or "",
        tickers=tickers,
    )


def _stored_classification(row: dict, tags: list[tuple[str, list[str]]]):
    from monitor.models import Classification

    primary = row.get("primary_tag") or (tags[0][0] if tags else "other")
    return Classification(
        primary=primary,
        tags=tuple(tag for tag, _ in tags) or (primary,),
        evidence=tuple((tag, tuple(sentences)) for tag, sentences in tags),
    )
