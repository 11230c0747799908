"""The `metanprom` command as a process of its own: the console script's entry point.

When the command has returned, the process ends without Python's finalization, which would tear down every
module the command loaded (dbt, pandas, scipy, scikit-learn, matplotlib: about 3,500 modules) and collect their
objects: 0.8-0.9 s after a 10,000-row `metanprom run` (15-16 s) has printed its summary, writing nothing.
Every exit handler still runs first (logging's, which flushes and closes dbt's log file; dbt-duckdb's, which
closes its connections; multiprocessing's; the temporary folders' clean-up), then the standard streams are
flushed and the process exits with the command's status. Every file the command writes is written and closed
(renamed into place) before the command returns, so nothing written is left to the finalization.

A command that raises (an unexpected error, Ctrl-C) ends as Python ends it: its traceback and exit status are
Python's own. `metanprom.cli.main` itself is unchanged: a caller in the same process (a test) keeps its
interpreter. This module imports only the standard library's `atexit`, `contextlib`, `os` and `sys`, so its
exit handler is registered before any library registers one, and runs after all of them (last in, first out).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

#: the status the command returned; None until it returns (a command that raised ends as Python ends it)
_status: int | None = None


def _end_process() -> None:
    """The last exit handler: once the command has returned, flush the standard streams and end the process with
    its status, skipping the finalization of the modules."""
    if _status is None:
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
                stream.flush()
    os._exit(_status)


def main() -> int:
    """Run the `metanprom` command (`metanprom.cli.main` on the process's arguments) and return its status."""
    global _status
    atexit.register(_end_process)
    from metanprom.cli import main as command

    _status = command()
    return _status
