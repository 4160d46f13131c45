"""Dialogs of the window: each gets what it shows, never the window itself."""
