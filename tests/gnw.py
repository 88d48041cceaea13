"""Build GlobeNewswire-shaped RSS for tests (the element order and formats of the real items)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

NS = (
    'xmlns:dc="http://dublincore.org/documents/dcmi-namespace/" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)


@dataclass
class Item:
    release_id: str
    title: str
    text: str = ""
    tickers: tuple[str, ...] = ()  # GNW spelling: "Nasdaq:CLRB"
    pub_date: str = "Tue, 19 Dec 2023 13:30 GMT"
    issuer: str = "Cellectar Biosciences, Inc."
    subjects: tuple[str, ...] = ("Business Contracts",)
    isin: str | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        slug = "-".join(self.title.lower().split())[:60]
        return f"https://www.globenewswire.com/news-release/2023/12/19/{self.release_id}/0/en/{slug}.html"

    def xml(self) -> str:
        parts = [f'<item><guid isPermaLink="true">{self.url}</guid><link>{self.url}</link>']
        for ticker in self.tickers:
            parts.append(
                f'<category domain="https://www.globenewswire.com/rss/stock">{ticker}</category>'
            )
        if self.isin:
            parts.append(
                f'<category domain="https://www.globenewswire.com/rss/ISIN">{self.isin}</category>'
            )
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in self.text.split("\n\n") if p.strip())
        parts += [
            f"<title>{escape(self.title)}</title>",
            f"<description><![CDATA[{paragraphs}]]></description>",
            f"<pubDate>{self.pub_date}</pubDate>",
            f"<dc:identifier>{self.release_id}</dc:identifier>",
            "<dc:language>en</dc:language><dc:publisher>GlobeNewswire Inc.</dc:publisher>",
            f"<dc:contributor>{escape(self.issuer)}</dc:contributor>",
            f"<dc:modified>{self.pub_date}</dc:modified>",
        ]
        parts += [f"<dc:subject>{escape(s)}</dc:subject>" for s in self.subjects]
        parts += self.extra
        parts.append("</item>")
        return "".join(parts)


def feed(*items: Item, title: str = "GlobeNewswire - Test Feed") -> bytes:
    body = "".join(item.xml() for item in items)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" {NS}><channel>'
        f"<title>{title}</title><link>https://www.globenewswire.com</link>"
        f"<description>test</description>{body}</channel></rss>"
    ).encode()
