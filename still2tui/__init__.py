"""still2tui package."""
