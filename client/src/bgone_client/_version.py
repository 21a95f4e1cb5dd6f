"""The SDK's version: the one place it is written (client/pyproject.toml reads it from here)."""

__version__ = "0.1.0"
