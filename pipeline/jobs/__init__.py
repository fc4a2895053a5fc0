"""Detached jobs: any CLI command run in the background with state, progress and a log in the store."""
