"""Strongroom admission webhook (a later issue fills it in)."""
