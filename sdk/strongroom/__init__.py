"""Strongroom SDK (filled in by the SDK work)."""
