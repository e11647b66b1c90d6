"""The `vdcaudit` command's entry point. `--version` is answered before the command line (and
every source, SDK and report module behind it) is imported, so it returns in tens of
milliseconds; everything else goes to vdcaudit.commands.cli. The text matches click's version option.

The command ends the process itself once its output is flushed: a scan leaves millions of objects
behind, and an interpreter shutting down frees each one and runs a last full garbage collection
over them — a second at 100,000 resources, for nothing (mypy ends the same way). Every file the
command writes is complete and closed before (vdcaudit.io.atomic), and no exit hook is vdcaudit's.
"""

from __future__ import annotations

import os
import sys
import traceback

from vdcaudit.errors import EXIT_INTERNAL, debug_enabled


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from vdcaudit import __version__

        print(f"vdcaudit, version {__version__}")
        return
    from vdcaudit.commands.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as exc:
        end(exc.code)
    except Exception as exc:  # a crash is 3 (never 1, the gate's code), traceback only when debugging
        if debug_enabled():
            traceback.print_exc()
        else:
            print(f"vdcaudit: error: internal error: {type(exc).__name__} (set VDCAUDIT_DEBUG=1 for a traceback)",
                  file=sys.stderr)
        end(EXIT_INTERNAL)
    end(0)


def end(code: object) -> None:
    """Exit with `code` as sys.exit would (None is 0, a number is the status, anything else is
    printed and gives 1), without tearing the interpreter down."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or a closed stream: nothing more to say
            pass
    os._exit(status)
