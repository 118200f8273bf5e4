"""plait's version, in one place (the package metadata in pyproject.toml agrees)."""

__version__ = "0.1.0"
