"""A separate process that records scans in a history (for the concurrency and kill tests).

    python writer.py TARGET SCOPE SCANS FINDINGS [hang]

With `hang`, it stops inside the transaction (after the scan row and its findings are written,
before the commit), prints "inside" and waits to be killed."""

from __future__ import annotations

import sys
import time

from history_data import finding, scan
from vdcaudit.history.store import History


def main() -> None:
    target, scope, scans, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    hang = len(sys.argv) > 5 and sys.argv[5] == "hang"
    history = History(target)
    if hang:
        original = History._insert_findings

        def insert_then_hang(self: History, *args: object) -> None:
            original(self, *args)  # type: ignore[arg-type]
            print("inside", flush=True)
            time.sleep(600)

        History._insert_findings = insert_then_hang  # type: ignore[method-assign]
    for n in range(scans):
        history.record(scan(n, *[finding(f"{scope}-{i}", "FAIL" if (i + n) % 3 == 0 else "PASS") for i in range(count)],
                            scope=scope))
    print("done", flush=True)


if __name__ == "__main__":
    main()
