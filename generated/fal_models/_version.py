"""The version of this generated package."""

__version__ = "0.1.0"
