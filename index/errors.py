"""Errors that say what happened and what to do. The CLI and API turn them into one clear line."""

from __future__ import annotations


class QAError(Exception):
    """Base error: `str(err)` is a complete, user-facing sentence with the fix."""


class CorpusError(QAError):
    """The corpus folder is missing or holds nothing usable."""


class IndexMissingError(QAError):
    """No index has been built yet."""


class IndexMismatchError(QAError):
    """The index was built with another embedding model or dimension."""


class IndexCorruptError(QAError):
    """The store on disk cannot be opened."""


class IndexLockedError(QAError):
    """Another process is writing the index."""


class BackendError(QAError):
    """The language-model backend failed (unreachable, model missing, dropped, timed out)."""


class InputError(QAError):
    """The user's input cannot be used (empty, too long)."""


class SettingsError(QAError):
    """A setting has a value it cannot take (an environment variable, `.env` or a keyword)."""
