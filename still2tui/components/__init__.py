"""Widgets and screens of the TUI (one module per screen or widget)."""
