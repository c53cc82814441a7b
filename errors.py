"""Errors a merchant can act on.

Every exception raised on purpose is a ``NextdropError`` whose message names the
file, row, column or setting at fault and says what to do. The CLI turns them
into one-line messages; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class NextdropError(Exception):
    """Base class: the message is shown to the user as it is."""


class WorkspaceNotFound(NextdropError):
    """No ``.nextdrop`` folder here or above."""


class WorkspaceLocked(NextdropError):
    """Another process is writing to the workspace."""


class InputError(NextdropError):
    """An input file cannot be read or lacks a required column."""


class SettingsError(NextdropError):
    """A setting in ``nextdrop.toml`` or the environment is invalid."""
