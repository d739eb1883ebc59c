"""Strongroom operator and control plane."""
