"""The `vdcaudit` command's entry point. `--version` is answered before the command line (and
every source, SDK and report module behind it) is imported, so it returns in tens of
milliseconds; everything else goes to vdcaudit.cli. The text matches click's version option."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from vdcaudit import __version__

        print(f"vdcaudit, version {__version__}")
        return
    from vdcaudit.cli import main as cli_main

    cli_main()
