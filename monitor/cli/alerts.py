"""Commands about alerts: alerts (the outbox), notify-test."""

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
@click.option("--channel", type=click.Choice(["desktop", "email"]), help="Default: every enabled.")
@click.pass_obj
def notify_test(obj: Context, channel: str | None) -> None:
    """Send a test alert and say in one line what failed (DNS, connect, TLS, auth, recipient)."""
    from monitor.models import AlertContent, Facts
    from monitor.notify.base import NotifyError
    from monitor.outbox import build_notifiers, render_for

    notifiers, warnings = build_notifiers(obj.config.notify)
    if channel:
        notifiers = {k: v for k, v in notifiers.items() if k == channel}
    if not notifiers:
        raise BiomonError(
            f"{obj.config.path}: no enabled channel{' ' + channel if channel else ''}; "
            "set enabled = true under [notify.desktop] or [notify.email]"
        )
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
    for name, notifier in notifiers.items():
        if name == "desktop" and warnings:
            click.echo(f"desktop: FAILED {warnings[0]}")
            failed = True
            continue
        try:
            notifier.send(render_for(name, content, now))
        except NotifyError as error:
            click.echo(f"{name}: FAILED {error}")
            failed = True
        else:
            click.echo(f"{name}: sent")
    if failed:
        sys.exit(1)
