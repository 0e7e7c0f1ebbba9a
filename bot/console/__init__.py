"""The staff console (see `bot.console.app`)."""

from bot.console.app import Console

__all__ = ["Console"]
