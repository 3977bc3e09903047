"""Child processes that die with their parent.

A process killed with SIGKILL, by the OOM killer or in a crash cannot clean up after itself:
children it started would go on using a core for minutes. On Linux a child asks the kernel
to send it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Ask for SIGKILL when the parent (the thread that started this process) dies. Given the
    parent's pid, exit at once if it died before the request took effect."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # orphaned already: nothing is waiting for this process's work
