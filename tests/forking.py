"""Run a check in a forked child, as a pre-forking server's worker would run our code."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable


def passes_in_forked_child(check: Callable[[], bool], timeout_seconds: int = 60) -> bool:
    """Whether ``check`` returns True in a forked child; a child that hangs past the timeout
    or raises fails, and never goes on to run the rest of the test session."""
    child = os.fork()
    if child == 0:
        signal.alarm(timeout_seconds)
        passed = False
        try:
            passed = check()
        finally:
            os._exit(0 if passed else 1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0
