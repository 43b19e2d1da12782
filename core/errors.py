"""Errors a user can act on: the message says what was wrong and what to do."""


class LookalikeError(Exception):
    """Base of every error shown to users without a traceback."""


class UnknownModelError(LookalikeError):
    """A model name that is not in the registry."""
