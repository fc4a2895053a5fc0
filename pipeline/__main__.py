"""`python -m pipeline` runs the still2 CLI (used by jobs so they need no console script on PATH)."""

from pipeline.cli import main

main()
