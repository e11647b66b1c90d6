"""The day tests judge IaC and export fixtures as of, when they test a rule's own reading of the data:
before every platform floor (vdcaudit/data/platform_floors.yaml), so Azure's later TLS retirements do
not decide the verdict. The floors themselves are tested in tests/test_platform_floors.py and in the
rule cases, with dates before and after each floor."""

from datetime import date

BEFORE_FLOORS = date(2024, 6, 1)
OPTIONS = {"as_of": BEFORE_FLOORS}
CLI = ["--as-of", BEFORE_FLOORS.isoformat()]
