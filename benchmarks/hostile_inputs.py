"""Time and peak memory of the inputs that used to be unbounded, each in a fresh process.

    PYTHONPATH=. python benchmarks/hostile_inputs.py [--case NAME]

Cases: a webhook server that trickles its reply a byte at a time; one whose reply never ends; a
custom JMESPath rule that doubles its data 34 times (one evaluation, then a whole demo scan with the
rule added); template date functions at their extremes. Prints one line per case: wall seconds and
the child process's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOUBLING = " | [@, @][]" * 34


def _serve(kind: str) -> int:
    listener = socket.create_server(("127.0.0.1", 0))

    def handle(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            if kind == "trickle":
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1_000_000:
                    conn.sendall(bytes([byte]))
                    time.sleep(0.1)
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
                chunk = b"x" * 65536
                while True:
                    conn.sendall(chunk)
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return int(listener.getsockname()[1])


def child(case: str) -> None:
    if case in ("webhook-trickle", "webhook-endless"):
        from vdcaudit.history import notify

        port = _serve(case.split("-")[1])
        failure = notify.deliver(notify.parse_webhook(f"http://127.0.0.1:{port}/hook"), {"schema": "bench"})
        print(f"  outcome: {failure or 'accepted (reply read up to the limit)'}", file=sys.stderr)
    elif case == "jmespath-doubling":
        from vdcaudit import jmes

        expression = jmes.compile_expression("length(properties" + DOUBLING + ")")
        try:
            jmes.search(expression, {"properties": {"a": 1}})
        except jmes.BudgetExceeded as exc:
            print(f"  outcome: BudgetExceeded: {exc}", file=sys.stderr)
    elif case == "template-dates":
        from vdcaudit.collectors.arm_expressions import Deployment, Scope, evaluate, parse

        scope = Scope(deployment=Deployment("s", "rg", "westeurope"))
        for text in ("dateTimeFromEpoch(9223372036854775807)", "dateTimeAdd('2026-01-01T00:00:00Z', 'P9999999999D')"):
            print(f"  outcome: {evaluate(parse(text), scope)}", file=sys.stderr)
    else:
        raise SystemExit(f"unknown case {case}")


def scan_with_doubling_rule() -> list[str]:
    folder = Path(tempfile.mkdtemp())
    (folder / "rules").mkdir()
    (folder / "rules" / "VDC-ZZ-001.yaml").write_text(
        "id: VDC-ZZ-001\ntitle: doubles its data 34 times\nseverity: high\ncategory: in-transit\n"
        "resource_type: Microsoft.Storage/storageAccounts\n"
        f"assert: \"length(properties{DOUBLING}) > `0`\"\n"
        "rationale: a rule written to grow its data\nremediation: {summary: none}\nreferences: {baseline: none}\n")
    return [sys.executable, "-m", "vdcaudit", "scan", "--demo", "--rules", str(folder / "rules"),
            "--out", str(folder / "out"), "--quiet", "--format", "json"]


CASES = ["webhook-trickle", "webhook-endless", "jmespath-doubling", "scan-with-doubling-rule", "template-dates"]


def measure(case: str) -> None:
    command = scan_with_doubling_rule() if case == "scan-with-doubling-rule" else \
        [sys.executable, __file__, "--child", case]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not the largest of all children
    seconds = time.perf_counter() - start
    print(f"{case}: {seconds:.2f} s, peak {usage.ru_maxrss / 1024:.0f} MB, exit {os.waitstatus_to_exitcode(status)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=CASES, action="append")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    for case in args.case or CASES:
        measure(case)


if __name__ == "__main__":
    main()
