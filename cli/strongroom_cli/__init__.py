"""The strongroom command line."""
