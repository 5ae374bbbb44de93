"""The error a user can fix: bad arguments, missing or foreign files, a corpus or folder that cannot be used.

Raised with a message that names the problem and the fix; `slip` prints that one line and exits with status 2
(`slip --debug` shows the traceback). Every other exception is a bug and keeps its traceback.
"""

import sys
import traceback
from collections.abc import Callable


class UserError(Exception):
    """A problem with the user's input, arguments or files (not a bug in the package)."""


def exit_status(run: Callable[[], int | None], prog: str, debug: bool = False) -> int:
    """Runs a command: its own status (0 for None), or 2 after printing a `UserError` as one line
    `<prog>: error: <message>` (with the traceback first when `debug`). Other exceptions propagate: they are bugs."""
    try:
        return int(run() or 0)
    except UserError as error:
        if debug:
            traceback.print_exc()
        message = " ".join(str(error).split())  # one line, even when a wrapped library message has several
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2


__all__ = ["UserError", "exit_status"]
