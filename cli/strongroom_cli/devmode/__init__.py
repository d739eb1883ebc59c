"""`strongroom dev`: the control plane on SQLite, one sidecar and the echo upstream on loopback."""
