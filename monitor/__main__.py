"""`python -m monitor` runs the biomon command."""

from monitor.cli import main

main()
