"""Version of the apinotebook package."""

__version__ = "0.1.0"
