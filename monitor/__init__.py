"""biomon: watch biotech press-release wires for a watchlist of tickers."""

__version__ = "0.1.0"
