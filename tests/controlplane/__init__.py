"""Control-plane tests: a real server over a real SQLite file."""
