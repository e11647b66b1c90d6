"""Evidence bundles: what an auditor needs to re-check a scan without the tool's author (the
inputs as read, config, waivers, baseline, rule pack, reports and a manifest of their SHA-256),
optionally signed; `vdcaudit verify` re-checks one. See docs/evidence.md."""
