"""Synthetic estate: the demo VDC's Azure snapshot files copied into many subscriptions, written as
snapshot files (the shapes the demo uses: az resource list arrays, Resource Graph `data`, ARM `value`
lists), so a benchmark reads them exactly as a user's export is read.

Every copy gets fresh subscription ids (so fresh resource ids; children still link to their parents)
and fresh vault host names (so one copy's keys never resolve to another copy's vault).

    python benchmarks/estate.py --resources 100000 --out /tmp/estate-100k
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo" / "azure"
# The demo's subscription ids, wherever they appear (ids, subscriptionId, role-assignment scopes)
SUBSCRIPTION = re.compile(r"(?<![0-9a-fA-F-])([1-9])\1{7}-\1{4}-4\1{3}-8\1{3}-\1{12}(?![0-9a-fA-F-])")
VAULT_HOST = re.compile(r"https://([a-z0-9-]+)\.vault\.azure\.net", re.IGNORECASE)
COPIES_PER_FILE = 128  # about 10,000 resources per file


def _resources(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    return document.get("data") if isinstance(document.get("data"), list) else document["value"]


def _shaped(document: Any, resources: list[Any]) -> Any:
    if isinstance(document, list):
        return resources
    key = "data" if isinstance(document.get("data"), list) else "value"
    return {key: resources}


def demo_files() -> list[tuple[str, Any, str]]:
    """(file name, parsed document, the text of its resources array) for every demo snapshot file."""
    files = []
    for path in sorted(DEMO.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        files.append((path.name, document, json.dumps(_resources(document))))
    return files


def per_copy(files: list[tuple[str, Any, str]]) -> int:
    """Resources one copy adds to the inventory (az CLI's flattened prints of an existing resource
    merge into it, so count distinct ids)."""
    # Az PowerShell exports name the id ResourceId
    ids = {(r.get("id") or r.get("ResourceId")).lower() for _, document, _ in files for r in _resources(document)}
    return len(ids)


def copy_text(text: str, n: int) -> str:
    """The resources' text with every demo subscription id and vault host made unique to copy n."""
    text = SUBSCRIPTION.sub(lambda m: f"{n:08x}-{m.group(0)[9:]}", text)
    return VAULT_HOST.sub(lambda m: f"https://{m.group(1)}-{n:x}.vault.azure.net", text)


def generate(resources: int, out: Path) -> int:
    files = demo_files()
    copies = max(1, math.ceil(resources / per_copy(files)))
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for chunk, first in enumerate(range(0, copies, COPIES_PER_FILE)):
        last = min(copies, first + COPIES_PER_FILE)
        for name, document, text in files:
            items = ",".join(copy_text(text, n)[1:-1] for n in range(first, last) if text != "[]")
            shaped = json.dumps(_shaped(document, []))
            # splice the concatenated arrays into the file's own shape without re-parsing them
            body = shaped.replace("[]", f"[{items}]", 1)
            (out / f"{chunk:05d}-{name}").write_text(body, encoding="utf-8")
    return copies * per_copy(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100_000, help="approximate resource count")
    parser.add_argument("--out", type=Path, required=True, help="folder for the snapshot files")
    args = parser.parse_args()
    total = generate(args.resources, args.out)
    print(f"{total:,} resources written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
