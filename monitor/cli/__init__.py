"""The `biomon` command: click commands that parse options, call the library, format output.

Every command is named in COMMANDS and its module is imported only when it runs (see
`BiomonGroup`): `biomon --help` lists them all without importing httpx, feedparser or
sqlite_utils. Adding a command is one line here; tests/test_startup.py checks the table against
the commands the modules define (and that the help line matches the docstring).
"""

from monitor.cli.app import cli, main

# name: ("module:function", the start of the docstring's first sentence, for `biomon --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "alerts": ("monitor.cli.alerts:alerts", "List alerts: pending, sent and failed..."),
    "backfill": ("monitor.cli.feeds:backfill", "Load older releases of the watchlist..."),
    "browse": ("monitor.cli.browse:browse", "Browse the releases in Datasette: newest..."),
    "catalysts": ("monitor.cli.catalysts:catalysts", "The catalyst calendar: dated upcoming..."),
    "catch-up": ("monitor.cli.feeds:catch_up", "Poll every feed once and store what is..."),
    "classify": ("monitor.cli.releases:classify", "Tag releases: a plain-text release..."),
    "demo": ("monitor.cli.feeds:demo", "Serve the bundled feeds on 127.0.0.1, poll..."),
    "export": ("monitor.cli.releases:export", "Write the releases a query matches to PATH..."),
    "history": ("monitor.cli.releases:history", "List stored releases, newest first."),
    "init": ("monitor.cli.init:init", "Write your config (to the user config folder)..."),
    "notify-test": ("monitor.cli.alerts:notify_test", "Send a test alert and say in one..."),
    "poll": ("monitor.cli.feeds:poll", "Poll every configured feed once, report per..."),
    "reclassify": ("monitor.cli.releases:reclassify", "Classify every stored release again..."),
    "run": ("monitor.cli.feeds:run", "Run in the foreground: poll every feed on its..."),
    "search": ("monitor.cli.releases:search", "Search the history: `biomon search 'NCI..."),
    "service": ("monitor.cli.service:service", "Run `biomon run` as a service: print or..."),
    "show": ("monitor.cli.releases:show", "Print one stored release whole, with its tags..."),
    "stats": ("monitor.cli.releases:stats", "Counts by tag, ticker and month of the..."),
    "status": ("monitor.cli.feeds:status", "Every feed's health: last success, status..."),
    "timeline": ("monitor.cli.releases:timeline", "One ticker's releases in time order, with..."),
    "watch": ("monitor.cli.watch:watch", "The watchlist: add and remove tickers, see how..."),
    "watch-test": ("monitor.cli.alerts:watch_test", "Replay stored releases through the..."),
}
cli.register(COMMANDS)

__all__ = ["COMMANDS", "cli", "main"]
