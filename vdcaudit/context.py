"""ScanContext: what a scan knows besides the inventory (settings, the clock, the CI gate inputs).

It lives apart from vdcaudit.model because it holds a Config, and config reads waiver files whose
entries are model shapes: kept in model, it tied model -> config -> waivers -> model in a circle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from vdcaudit.config import Config


@dataclass
class ScanContext:
    """What a scan knows besides the inventory: settings, the clock, and the CI gate inputs."""

    config: Config = field(default_factory=Config)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    options: dict[str, Any] = field(default_factory=dict)  # source-specific settings, e.g. cert_warn_days
    # CI gate inputs, applied to the findings by vdcaudit.scan (vdcaudit.waivers / vdcaudit.baseline)
    waivers: list[Any] | None = None
    baseline: Any = None
