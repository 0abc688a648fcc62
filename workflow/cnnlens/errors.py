"""The one exception type that carries a user-facing message, and the errors that mean a
full disk."""

import errno


class CnnLensError(Exception):
    """A problem the user can fix: the message names the problem and the fix, in one line."""


#: ``errno`` values of a file system with no room left (full disk, exhausted quota).
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
