"""The one exception type that carries a user-facing message."""


class CnnLensError(Exception):
    """A problem the user can fix: the message names the problem and the fix, in one line."""
