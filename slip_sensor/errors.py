"""The error a user can fix: bad arguments, missing or foreign files, a corpus or folder that cannot be used.

Raised with a message that names the problem and the fix; `slip` prints that one line and exits with status 2
(`slip --debug` shows the traceback). Every other exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input, arguments or files (not a bug in the package)."""


__all__ = ["UserError"]
