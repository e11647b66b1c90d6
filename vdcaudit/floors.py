"""Platform floors: what Azure enforces on a service whatever a resource's own setting says, and from
which day (vdcaudit/data/platform_floors.yaml, one cited row per service; docs/platform-floors.md).

A verdict describes the estate on the date of its evidence: the `--as-of` day when given, else the
collection time a `vdcaudit snapshot` file records, else the scan time. On that date the effective
minimum TLS version of a resource is the stronger of its configured value and the floor in force:
- no value configured (absent, "None", or not knowable yet): PASS, the floor decides;
- a value below the floor: WARN, the setting has no effect (Azure refuses the older versions anyway),
  but the configuration says something untrue and a template that declares it may be refused;
- a value at or above the floor: the rule judges it as always.
Before the floor's date the rule judges the resource's own setting, and a FAIL says when Azure starts
enforcing the floor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from vdcaudit.context import ScanContext
from vdcaudit.errors import InputError
from vdcaudit.inventory import META, OBSERVED
from vdcaudit.model import Status
from vdcaudit.io.yamlfile import load_yaml
from vdcaudit.timestamps import parse_datetime

TABLE = Path(__file__).resolve().parent / "data" / "platform_floors.yaml"
_FIELDS = ("id", "service", "applies_to", "setting", "floor", "since", "source", "says")


@dataclass(frozen=True)
class Floor:
    id: str
    service: str
    applies_to: tuple[str, ...]
    setting: str
    floor: str  # a TLS version, "1.2"
    since: date
    source: str  # the Microsoft page that states it
    says: str

    def cited(self) -> str:
        return f"Azure enforces TLS {self.floor} on {self.service} since {self.since.isoformat()} ({self.source})"


@dataclass(frozen=True)
class Decision:
    status: Status
    message: str


@lru_cache(maxsize=None)
def table(path: Path = TABLE) -> dict[str, Floor]:
    """Every floor by id, read and checked once."""
    data = load_yaml(path.read_text(encoding="utf-8"), path)
    rows = data.get("floors") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise InputError("the platform floor table needs a `floors:` list", path)
    floors: dict[str, Floor] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or any(not row.get(name) for name in _FIELDS):
            raise InputError(f"floors[{index}] needs {', '.join(_FIELDS)}", path)
        if tls_version(row["floor"]) is None or not str(row["source"]).startswith("https://learn.microsoft.com/"):
            raise InputError(f"floors[{index}]: floor must be a TLS version and source a Microsoft Learn page", path)
        floors[row["id"]] = Floor(row["id"], row["service"], tuple(row["applies_to"]), row["setting"],
                                  str(row["floor"]), _date(row["since"], path), row["source"], row["says"])
    return floors


def _date(value: Any, path: Path) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{value!r} is not a date (YYYY-MM-DD)", path) from None


def tls_version(value: Any) -> tuple[int, int] | None:
    """A minimum TLS version in any of the spellings Azure services use, as (major, minor):
    '1.2', 1.2, 'TLS1_2' (Storage), 'Tls12' / 'Tls' (Cosmos DB: 'Tls' is TLS 1.0), 'TLS12' (Front
    Door), 'TLSv1_2' (Application Gateway); 'None' (SQL: no minimum) is (0, 0). None when unreadable."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lower()
    if text == "none":
        return (0, 0)
    if text == "tls":
        return (1, 0)
    text = re.sub(r"^tls(v)?", "", text)
    match = re.fullmatch(r"(\d)[._]?(\d)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def evidence_date(resource: dict[str, Any], context: ScanContext) -> tuple[date, str]:
    """The day the evidence describes, and what says so."""
    as_of = context.options.get("as_of")
    if isinstance(as_of, date):
        return as_of, "--as-of"
    observed = resource.get(META, {}).get(OBSERVED)
    if isinstance(observed, str):
        try:
            return parse_datetime(observed, naive="keep").date(), "collected"
        except ValueError:
            pass
    return context.now.date(), "scan time"


def decide(floor: Floor, configured: Any, on: date, basis: str) -> Decision | None:
    """The verdict the floor makes on `on` given the configured value as printed (None: absent or not
    knowable yet), or None when the rule judges the setting itself."""
    if on < floor.since:
        return None
    minimum = tls_version(floor.floor)
    if minimum is None:
        raise ValueError(f"platform floor {floor.id} states no TLS version: {floor.floor!r}")
    version = tls_version(configured)
    when = f"evidence of {on.isoformat()} ({basis})"
    if configured is None or configured == "" or version == (0, 0):  # empty is not a value
        shown = "none configured" if configured in (None, "") else f"{configured!r} (no minimum)"
        return Decision(Status.PASS, f"Effective minimum TLS {floor.floor}: configured {shown}; "
                                     f"{floor.cited()}; {when}")
    if version is None:
        return None  # a value vdcaudit cannot read: the rule reports it
    if version < minimum:
        return Decision(Status.WARN, f"Effective minimum TLS {floor.floor}: the configured {configured!r} has no "
                                     f"effect; {floor.cited()}; set it to {floor.floor} so the configuration says "
                                     f"what is enforced; {when}")
    return None


def pending(floor: Floor, on: date, basis: str) -> str:
    """For a FAIL before the floor's date: when Azure starts enforcing it."""
    return (f"Azure enforces TLS {floor.floor} on {floor.service} from {floor.since.isoformat()} ({floor.source}); "
            f"the evidence is of {on.isoformat()} ({basis})")
