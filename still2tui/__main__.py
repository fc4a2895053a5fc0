"""`python -m still2tui` opens the TUI (what `still2 tui` runs)."""

from still2tui.app import main

main()
