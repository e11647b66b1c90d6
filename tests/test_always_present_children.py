"""A 404 where ARM always answers is a coverage gap, not an absence: the real SDK clients against
the ARM emulator, with a fault removing a child ARM serves for every parent."""

from __future__ import annotations

import pytest

from vdcaudit.collectors.azure import catalog
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.model import Status
from tests.test_azure_live import DEMO, SPOKE1, findings, rules  # noqa: F401
from tests.test_throttling import live

SPOKE3 = "44444444-4444-4444-8444-444444444444"


def test_404_on_a_file_service_is_a_gap_and_its_rules_unknown(rules):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        arm.add_fault(Fault.error(404, times=None, path=r"/stspoke1app/fileServices/default$", code="ResourceNotFound"))
        inventory = live(arm)
    [gap] = inventory.coverage
    assert (gap.scope, gap.resource_type) == (SPOKE1, "Microsoft.Storage/storageAccounts/fileServices")
    assert gap.reason.startswith("404 Not Found, though ARM serves fileServices/default") and "stspoke1app" in gap.detail
    # the rules on file services report the gap for the subscription: UNKNOWN, never a silent nothing
    result = findings(inventory, rules)
    smb = [f for f in result if f.rule_id in ("VDC-ST-008", "VDC-ST-009") and f.resource_id == SPOKE1]
    assert len(smb) == 2 and all(f.status is Status.UNKNOWN and "404 Not Found" in f.message for f in smb)


def test_404_on_a_web_app_config_makes_the_rules_reading_it_unknown(rules):
    """Without its config/web the rule would fall back to the site's own siteConfig (less data)."""
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        arm.add_fault(Fault.error(404, times=None, path=r"/app-spoke3-portal/config/web$", code="ResourceNotFound"))
        inventory = live(arm)
    assert [(c.scope, c.resource_type) for c in inventory.coverage] == [(SPOKE3, "Microsoft.Web/sites/config")]
    portal = {f.rule_id: f for f in findings(inventory, rules) if f.resource_name == "app-spoke3-portal"}
    for rule_id in ("VDC-APP-002", "VDC-APP-003"):
        assert portal[rule_id].status is Status.UNKNOWN
        assert "its config could not be read (404 Not Found" in portal[rule_id].message


def test_404_on_a_child_arm_may_lack_is_still_an_absence(rules):
    """A vault's key list is not always present in that sense: a 404 there stays 'nothing to read'."""
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        fault = arm.add_fault(Fault.error(404, times=None, path=r"/vaults/[^/]+/keys$", code="ResourceNotFound"))
        inventory = live(arm)
    assert fault.fired > 0 and inventory.coverage == []


@pytest.mark.parametrize("child, expected", [
    ("Microsoft.Storage/storageAccounts/fileServices", True),
    ("Microsoft.Web/sites/config", True),
    ("Microsoft.Web/sites/slots/config", True),
    ("Microsoft.Sql/servers/databases/transparentDataEncryption", True),
    ("Microsoft.Sql/servers/encryptionProtector", True),
    ("Microsoft.DBforPostgreSQL/flexibleServers/configurations", True),
    ("Microsoft.DBforMySQL/flexibleServers/configurations", True),
    ("Microsoft.KeyVault/vaults/keys", False),
    ("Microsoft.Cdn/profiles/customDomains", False),
])
def test_catalog_names_the_children_arm_always_serves(child, expected):
    [call] = [c for c in catalog.CHILDREN if c.type == child]
    assert catalog.always_present(call) is expected
