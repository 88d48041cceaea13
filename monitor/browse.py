"""`biomon browse`: the Datasette metadata, plugin and command line that serve the database.

Datasette is an optional extra (`pip install 'biomon[web]'`). It runs as a child process
(`python -m monitor.browse`: Datasette's own command line with biomon's plugin registered) so its
asyncio server, plugins and settings stay out of biomon; it opens a database that is not
immutable with `mode=ro`, so it never writes and the daemon can keep polling meanwhile.

The plugin makes the releases table the page that answers questions: `/` lands on it, newest
first, with a few narrow columns (LIST_COLUMNS; the body is on each release's own page),
facets by any tag, ticker and month, and full-text search.
"""

from __future__ import annotations

import errno
import functools
import importlib.util
import json
import socket
import sys
from pathlib import Path
from urllib.parse import urlencode

from monitor.errors import BiomonError

HOST = "127.0.0.1"
INSTALL_HINT = "Datasette is not installed: pip install 'biomon[web]'"
PLUGIN = "biomon"

# The releases listing: Datasette adds the `id` link to each row page, where the rest (the text,
# the summary, the URL on the wire) is. Datasette 0.65 has no metadata to choose the columns a
# table page shows, so the plugin adds `?_col=` for these when a request names none.
LIST_COLUMNS = ("sort_time", "tickers", "primary_tag", "title", "source")
RELEASE_COLUMNS = ("id", *LIST_COLUMNS)
_SELECT = "select " + ", ".join(f"r.{column}" for column in RELEASE_COLUMNS)

_RELEASES_BY_TAG = f"""\
{_SELECT}
from release_tags t join releases r on r.id = t.release
where t.tag = :tag
order by r.sort_time desc, r.id desc
limit 500"""

_RELEASES_BY_TICKER = f"""\
{_SELECT}
from release_tickers t join releases r on r.id = t.release
where t.symbol = upper(:symbol)
order by r.sort_time desc, r.id desc
limit 500"""

# A release's own page: one field a line, the useful ones first, the HTML summary last.
ROW_FIRST = ("title", "sort_time", "tickers", "primary_tag", "issuer", "url", "text")
ROW_LAST = ("summary_html",)
_ROW_TEMPLATE = (
    (
        """\
{% set first = FIRST %}{% set last = LAST %}
{% macro field(cell) %}<tr><th scope="row">{{ cell.column }}</th>
<td class="col-{{ cell.column|to_css_class }} type-{{ cell.value_type }}">{{ cell.value }}</td></tr>
{% endmacro %}
{% for row in display_rows %}
<table class="rows-and-columns biomon-release"><tbody>
{% for name in first %}{% for cell in row if cell.column == name %}{{ field(cell) }}{% endfor %}\
{% endfor %}
{% for cell in row if cell.column not in first + last %}{{ field(cell) }}{% endfor %}
{% for name in last %}{% for cell in row if cell.column == name %}{{ field(cell) }}{% endfor %}\
{% endfor %}
</tbody></table>
{% else %}<p class="zero-results">0 records</p>
{% endfor %}
"""
    )
    .replace("FIRST", json.dumps(ROW_FIRST))
    .replace("LAST", json.dumps(ROW_LAST))
)

_CSS = """\
body.table-releases td.col-sort_time, body.table-releases td.col-tickers { white-space: nowrap; }
body.table-releases td.col-title { min-width: 24em; }
table.biomon-release th {
  text-align: left; vertical-align: top; white-space: nowrap; padding-right: 1em;
  font-weight: normal; color: #555;
}
table.biomon-release td.col-title { font-size: 1.2em; font-weight: bold; }
table.biomon-release td.col-text { white-space: pre-wrap; max-width: 60em; line-height: 1.5; }
table.biomon-release details pre { white-space: pre-wrap; max-width: 60em; font-size: 0.8em; }
"""


def database_name(db_path: Path | str) -> str:
    """The name Datasette serves a database file under: its file stem."""
    return Path(db_path).stem


def url_name(name: str) -> str:
    """A database or table name as it appears in Datasette's URLs (its "tilde encoding")."""
    parts = []
    for char in name:
        if char.isascii() and (char.isalnum() or char in "_-"):
            parts.append(char)
        elif char == " ":
            parts.append("+")
        else:
            parts.extend(f"~{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(parts)


def metadata(db_path: Path | str) -> dict:
    """Datasette metadata for a biomon database: facets, full-text search, canned queries."""
    name = database_name(db_path)
    return {
        "title": "biomon",
        "description": "Biotech press releases stored by biomon (read-only).",
        "plugins": {PLUGIN: {"database": name}},
        "databases": {
            name: {
                "tables": {
                    "releases": {
                        "description": (
                            "Newest first. A title opens the release with its text; the facets "
                            "filter by tag, ticker and month; search looks in titles and texts."
                        ),
                        "sort_desc": "sort_time",
                        "sortable_columns": [
                            "id",
                            "sort_time",
                            "published_utc",
                            "first_seen",
                            "tickers",
                            "primary_tag",
                            "title",
                            "issuer",
                            "source",
                        ],
                        "label_column": "title",
                        "facets": [
                            {"release_tags": "tag"},  # any of a release's tags: TagFacet
                            {"array": "tickers"},
                            {"month": "sort_time"},  # MonthFacet
                        ],
                        "facet_size": 8,  # the releases start on the first screen; "…": all
                        # Default search mode: Datasette quotes each word, so `Phase-2` or
                        # `Nasdaq:CLRB` cannot be FTS5 syntax errors; `_searchmode=raw` opts in.
                        "fts_table": "releases_fts",
                        "fts_pk": "id",
                        "size": 50,
                    },
                    "release_tags": {"facets": ["tag"]},
                    "release_tickers": {"facets": ["symbol", "exchange"]},
                    "alerts": {"sort_desc": "created", "facets": ["status", "channel"]},
                    "catalysts": {
                        "description": (
                            "The catalyst calendar: dated upcoming events the releases announced, "
                            "with the sentence saying so; met_release is the release reporting it."
                        ),
                        "sort": "window_start",
                        "label_column": "program",
                        "facets": ["kind", "ticker", {"month": "window_start"}],
                        "size": 100,
                    },
                    "catalyst_changes": {"sort_desc": "changed", "facets": ["catalyst"]},
                    "daemon": {"hidden": True},
                    "channel_state": {"hidden": True},
                },
                "queries": {
                    "releases_by_tag": {
                        "title": "Releases with a tag, newest first",
                        "sql": _RELEASES_BY_TAG,
                    },
                    "releases_by_ticker": {
                        "title": "Releases listing a ticker symbol, newest first",
                        "sql": _RELEASES_BY_TICKER,
                    },
                },
            }
        },
    }


def datasette_command(
    db_path: Path | str, metadata_path: Path | str, port: int, open_browser: bool = False
) -> list[str]:
    """The `datasette serve` command line (with biomon's plugin) for one database on 127.0.0.1."""
    command = [
        sys.executable,
        "-m",
        "monitor.browse",
        "serve",
        str(db_path),
        "--host",
        HOST,
        "--port",
        str(port),
        "--metadata",
        str(metadata_path),
        "--setting",
        "sql_time_limit_ms",
        "3000",
        # The default 200 ms is short for the JSON array facet on tickers in a big database.
        "--setting",
        "facet_time_limit_ms",
        "1000",
        # Release texts are long: keep table cells short (the row page shows everything).
        "--setting",
        "truncate_cells_html",
        "300",
        # Every column of a big table would be tried as a facet on each page: the four
        # configured ones answer the questions.
        "--setting",
        "suggest_facets",
        "off",
    ]
    if open_browser:
        command.append("-o")
    return command


def datasette_available() -> str | None:
    """None when Datasette can be imported, else the one-line reason and what to do."""
    try:
        found = importlib.util.find_spec("datasette")
    except (ImportError, ValueError):
        found = None
    return None if found else INSTALL_HINT


def choose_port(port: int) -> int:
    """`port` if it is free on 127.0.0.1, or a free port when `port` is 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port whose old connections linger in TIME_WAIT is still free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else error.strerror
            raise BiomonError(
                f"port {port} on {HOST} {reason}; pass another --port, or --port 0 for a free one"
            ) from None
        return probe.getsockname()[1]


# ---- the Datasette plugin: imported and registered only in the child process


def serve(argv: list[str]) -> None:
    """Datasette's command line (`serve DB ...`) with biomon's plugin registered."""
    from datasette.cli import cli
    from datasette.plugins import pm

    pm.register(datasette_plugin(), name=PLUGIN)
    cli.main(args=argv, prog_name="datasette")


def datasette_plugin() -> object:
    """biomon's Datasette hooks as one plugin (a module, as Datasette wants) for pm.register."""
    from types import ModuleType

    from datasette import hookimpl

    hooks = {
        "register_routes": _register_routes,
        "asgi_wrapper": _asgi_wrapper,
        "filters_from_request": _filters_from_request,
        "register_facet_classes": _register_facet_classes,
        "render_cell": _render_cell,
        "extra_css_urls": _extra_css_urls,
        "prepare_jinja2_environment": _prepare_jinja2_environment,
    }
    plugin = ModuleType(PLUGIN, "biomon's views of its database: see monitor/browse.py")
    for name, function in hooks.items():
        setattr(plugin, name, hookimpl(function))
    return plugin


def _database(datasette) -> str | None:
    """The biomon database Datasette serves (metadata: plugins.biomon.database)."""
    name = (datasette.plugin_config(PLUGIN) or {}).get("database")
    return name if name in datasette.databases else None


def _is_releases(datasette, database: str | None, table: str | None) -> bool:
    return table == "releases" and database is not None and database == _database(datasette)


def _register_routes(datasette):
    from datasette.utils.asgi import Response

    async def home(datasette):
        name = _database(datasette)
        if name is None:  # not biomon's metadata: Datasette's list of databases
            return Response.redirect(datasette.urls.path("/-/databases"))
        return Response.redirect(datasette.urls.table(name, "releases"))

    async def stylesheet():
        return Response(_CSS, content_type="text/css; charset=utf-8")

    return [(r"^/$", home), (r"^/-/biomon\.css$", stylesheet)]


def _asgi_wrapper(datasette):
    """Give the releases page its narrow columns when the request names none (?_col=)."""

    def wrap(app):
        async def narrow(scope, receive, send):
            if scope.get("type") == "http":
                scope = _with_list_columns(datasette, scope)
            await app(scope, receive, send)

        return narrow

    return wrap


def _with_list_columns(datasette, scope: dict) -> dict:
    from urllib.parse import parse_qsl

    name = _database(datasette)
    if name is None:
        return scope
    path = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
    if path != datasette.urls.table(name, "releases"):
        return scope  # also .json and .csv: every column for programs
    query = scope.get("query_string", b"")
    named = {key for key, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)}
    if named & {"_col", "_nocol", "_format", "_shape"}:
        return scope
    columns = urlencode([("_col", column) for column in LIST_COLUMNS]).encode("ascii")
    return dict(scope, query_string=columns + (b"&" + query if query else b""))


def _filters_from_request(request, database, table, datasette):
    """`?_tag=grant`: releases with that tag (any of their tags), as the tag facet links."""
    if not _is_releases(datasette, database, table) or "_tag" not in request.args:
        return None
    from datasette.filters import FilterArguments

    tags = request.args.getlist("_tag")
    return FilterArguments(
        [
            f"id in (select release from release_tags where tag = :biomon_tag_{number})"
            for number in range(len(tags))
        ],
        {f"biomon_tag_{number}": tag for number, tag in enumerate(tags)},
        [f'tag is "{tag}"' for tag in tags],
    )


def _register_facet_classes():
    return list(_facet_classes())


@functools.cache
def _facet_classes() -> tuple[type, ...]:
    from datasette.database import QueryInterrupted
    from datasette.facets import Facet
    from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

    class ValueFacet(Facet):
        """A facet of values SQL computes; a value toggles a query-string argument."""

        async def facet_results(self):
            results, timed_out = [], []
            size = self.get_facet_size()
            for config in self.get_configs():
                name = config["config"].get("simple")
                argument, sql = self.argument(name), self.values_sql(name, size + 1)
                if not argument or not sql:
                    continue
                try:
                    rows = await self.ds.execute(
                        self.database,
                        sql,
                        self.params,
                        truncate=False,
                        custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                    )
                except QueryInterrupted:
                    timed_out.append(name)
                    continue
                chosen = self.request.args.getlist(argument)
                values = []
                for row in rows.rows[:size]:
                    value = row["value"]
                    pair = {argument: value}
                    selected = value in chosen
                    toggle = (path_with_removed_args if selected else path_with_added_args)(
                        self.request, pair
                    )
                    values.append(
                        {
                            "value": value,
                            "label": value,
                            "count": row["count"],
                            "toggle_url": self.ds.absolute_url(self.request, toggle),
                            "selected": selected,
                        }
                    )
                results.append(
                    {
                        "name": name,
                        "type": self.type,
                        "results": values,
                        "hideable": config["source"] != "metadata",
                        "toggle_url": path_with_removed_args(
                            self.request, {f"_facet_{self.type}": name}
                        ),
                        "truncated": len(rows.rows) > size,
                    }
                )
            return results, timed_out

    class TagFacet(ValueFacet):
        """Every tag of the releases shown (release_tags), not only their primary tag."""

        type = "release_tags"

        def argument(self, name):
            return "_tag"  # see _filters_from_request

        def values_sql(self, name, limit):
            if self.table != "releases":
                return None
            return (
                "select tag as value, count(*) as count from release_tags "
                f"where release in (select id from ({self.sql})) "
                f"group by tag order by count desc, tag limit {limit}"
            )

    class MonthFacet(ValueFacet):
        """Months (YYYY-MM) of an ISO time column, newest first: `?column__startswith=`."""

        type = "month"

        def argument(self, name):
            return f"{name}__startswith" if name else None

        def values_sql(self, name, limit):
            column = escape_sqlite(name)
            return (
                f"select substr({column}, 1, 7) as value, count(*) as count from ({self.sql}) "
                f"where {column} glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' "
                f"group by value order by value desc limit {limit}"
            )

    return TagFacet, MonthFacet


def _render_cell(row, value, column, table, database, datasette):
    """Releases: the title links to the release's page, tickers to their releases."""
    if not _is_releases(datasette, database, table) or value in (None, ""):
        return None
    from markupsafe import Markup, escape

    keys = row.keys() if hasattr(row, "keys") else ()
    if column == "title":
        if "url" in keys and row["url"]:  # the release's own page: on to the wire's
            target = row["url"]
        elif "id" in keys:
            target = datasette.urls.row(database, "releases", str(row["id"]))
        else:
            return None
        return Markup(f'<a href="{escape(target)}">{escape(value)}</a>')
    if column == "tickers":
        try:
            symbols = json.loads(value)
        except ValueError:
            return None
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            return None
        page = datasette.urls.table(database, "releases")
        return Markup(
            ", ".join(
                f'<a href="{escape(page + "?" + urlencode({"tickers__arraycontains": s}))}">'
                f"{escape(s)}</a>"
                for s in symbols
            )
        )
    # The feed's HTML, folded away (the text above says the same); releases stored since schema
    # 11 keep none.
    if column == "summary_html" and value:
        return Markup(
            f"<details><summary>the feed's HTML ({len(value):,} characters)</summary>"
            f"<pre>{escape(value)}</pre></details>"
        )
    if column == "sort_time" and isinstance(value, str) and len(value) >= 16:
        shown = f"{value[:10]} {value[11:16]}"
        return Markup(f'<span title="{escape(value)} (UTC)">{escape(shown)}</span>')
    return None


def _prepare_jinja2_environment(env, datasette):
    """A release's page lists its fields one a line (Datasette's is one very wide row)."""
    from datasette.utils import to_css_class
    from jinja2 import ChoiceLoader, DictLoader

    name = _database(datasette)
    if name is not None:
        row = f"_table-row-{to_css_class(name)}-releases.html"
        env.loader = ChoiceLoader([DictLoader({row: _ROW_TEMPLATE}), env.loader])


def _extra_css_urls(database, table, datasette):
    if _is_releases(datasette, database, table):
        return [datasette.urls.path("/-/biomon.css")]
    return []


if __name__ == "__main__":  # `python -m monitor.browse serve DB ...`: what `biomon browse` runs
    serve(sys.argv[1:])
