"""The `metanprom` console script's process: it ends without Python's finalization once the command has returned."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

#: a stand-in for metanprom.cli.main, so the process's ending is seen without a build: it registers an exit handler
#: (as logging and dbt-duckdb do while the command runs), prints without flushing (block-buffered to a pipe),
#: holds an object whose finalizer prints (run only by the modules' finalization), and returns or raises
COMMAND = """
import atexit
import sys

import metanprom.cli


class Finalized:
    def __del__(self):
        print("finalized", flush=True)


def command(argv=None):
    atexit.register(lambda: print("exit handler ran"))
    sys.modules["__main__"].held = Finalized()
    print("the command's output")
    print("the command's message", file=sys.stderr)
    if "{how}" == "raise":
        raise RuntimeError("the command failed unexpectedly")
    return 3


metanprom.cli.main = command
from metanprom.console import main

sys.exit(main())
"""


def _run(tmp_path: Path, how: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "command.py"  # a file, not `python -c`: the command's modules may end a `-c` process
    script.write_text(textwrap.dedent(COMMAND.format(how=how)), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)


def test_a_returned_command_ends_with_its_status_after_every_exit_handler_without_the_finalization(
    tmp_path: Path,
) -> None:
    done = _run(tmp_path, "return")
    assert done.returncode == 3, done.stderr
    assert done.stdout == "the command's output\nexit handler ran\n", "flushed, after the other exit handlers"
    assert "the command's message" in done.stderr
    assert "finalized" not in done.stdout, "the modules' finalization is skipped"


def test_a_command_that_raises_ends_as_python_ends_it(tmp_path: Path) -> None:
    done = _run(tmp_path, "raise")
    assert done.returncode == 1
    assert "RuntimeError: the command failed unexpectedly" in done.stderr
    assert done.stdout == "the command's output\nexit handler ran\nfinalized\n", "Python's own ending, finalization too"


def test_the_entry_point_imports_no_library_before_its_exit_handler_is_registered() -> None:
    # so every library's exit handler is registered after it, and runs before it (last in, first out); the
    # standard library's atexit and __future__ register none
    probe = (
        "import sys; before = set(sys.modules); import metanprom.console; "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] not in sys.stdlib_module_names))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['metanprom', 'metanprom.console']"


def test_the_console_script_is_the_entry_point() -> None:
    project = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'metanprom = "metanprom.console:main"' in project
