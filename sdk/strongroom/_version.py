"""The SDK's version, kept in one place so the User-Agent and `strongroom.__version__` agree."""

__version__ = "0.1.0"
