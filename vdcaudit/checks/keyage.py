"""How old account keys are on the date the evidence describes (vdcaudit.floors.evidence_date: --as-of,
a snapshot's collection time, else the scan time): shared by the storage account key and Cosmos DB
key checks, which judge ARM timestamps of when each key was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from vdcaudit import floors
from vdcaudit.context import ScanContext
from vdcaudit.timestamps import parse_datetime


def arm_day(value: Any) -> date | None:
    """The day of an ARM timestamp such as a keyCreationTime entry ("2021-08-24T10:24:47.0000000Z",
    seven fraction digits as ARM prints); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value, naive="keep").date()
    except ValueError:
        return None


@dataclass(frozen=True)
class KeyAges:
    unknown: list[str]  # keys whose timestamp is absent or not a time
    over: list[str]  # "KEY <made> YYYY-MM-DD is N days old", for keys older than the limit
    when: str  # "on YYYY-MM-DD (basis)"


def key_ages(resource: dict[str, Any], context: ScanContext, stamps: dict[str, Any], limit: int, made: str) -> KeyAges:
    """Each key's age from its timestamp in `stamps`, against `limit` days; `made` names the event
    ("created", "generated") in the messages."""
    on, basis = floors.evidence_date(resource, context)
    days = {key: arm_day(stamp) for key, stamp in stamps.items()}
    return KeyAges(unknown=[key for key, day in days.items() if day is None],
                   over=[f"{key} {made} {day.isoformat()} is {(on - day).days} days old"
                         for key, day in days.items() if day is not None and (on - day).days > limit],
                   when=f"on {on.isoformat()} ({basis})")
