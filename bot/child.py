"""Run a program that dies with the bot: ``python -m bot.child PARENT_PID PROGRAM [ARGS...]``.

The retrain job must not outlive the bot: if the bot is killed (SIGKILL, OOM killer, a crash),
an orphaned training run would go on using a core for many minutes and write into a folder
the next start removes. On Linux this asks the kernel to send the child SIGKILL when its
parent dies (``PR_SET_PDEATHSIG``, which survives the ``exec``), then becomes ``PROGRAM``.
Setting it in a ``preexec_fn`` instead is unsafe in a process with threads, as the bot is.
Elsewhere it simply runs the program; the next start of the bot kills a leftover job.
"""

from __future__ import annotations

import os
import sys

from classifier.processes import die_with_parent


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m bot.child PARENT_PID PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    parent, program = int(argv[0]), argv[1:]
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        return 1
    os.execvp(program[0], program)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
