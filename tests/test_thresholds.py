"""The one reader of `thresholds.<area>.<name>` (vdcaudit.thresholds): where a value comes from, the
defaults' citations, a wrong value refused, and its table in step with the config schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vdcaudit import thresholds
from vdcaudit.config import load_config
from vdcaudit.errors import InputError
from vdcaudit.resources import schema_path


def test_a_value_set_in_the_file_names_the_setting():
    raw = {"thresholds": {"cosmos_db": {"max_key_age_days": 30}}}
    setting = thresholds.read(raw, thresholds.COSMOS, "max_key_age_days")
    assert (setting.value, setting.origin) == (30, "thresholds.cosmos_db.max_key_age_days")


@pytest.mark.parametrize(("area", "name", "value", "origin"), [
    ("cosmos_db", "max_key_age_days", 60, "thresholds.cosmos_db.max_key_age_days default (Azure Policy)"),
    ("key_vault_certificates", "min_days_to_expiry", 30,
     "thresholds.key_vault_certificates.min_days_to_expiry default (Key Vault near-expiry events)"),
    ("key_vault_keys", "allowed_key_types", ("RSA", "RSA-HSM", "EC", "EC-HSM"),
     "thresholds.key_vault_keys.allowed_key_types default (Azure Policy)"),
])
def test_a_default_says_where_it_comes_from(area, name, value, origin):
    setting = thresholds.read({"thresholds": {area: {}}}, area, name)
    assert (setting.value, setting.origin) == (value, origin)


@pytest.mark.parametrize(("area", "name"), [("disks", "allowed_disk_encryption_sets"),
                                            ("key_vault_certificates", "min_rsa_key_size"),
                                            ("key_vault_certificates", "max_lifetime_percentage")])
def test_a_setting_without_default_is_none(area, name):
    setting = thresholds.read({}, area, name)
    assert setting.value is None and setting.path == f"thresholds.{area}.{name}"


@pytest.mark.parametrize(("name", "block"), [
    ("max_active_days", {"max_active_days": -1}),
    ("max_active_days", {"max_active_days": True}),
    ("allowed_key_types", {"allowed_key_types": []}),
    ("allowed_key_types", "RSA"),
])
def test_a_wrong_value_is_refused_never_defaulted(name, block):
    with pytest.raises(ValueError, match="thresholds"):
        thresholds.read({"thresholds": {thresholds.KEYS: block}}, thresholds.KEYS, name)


def test_every_default_is_cited():
    for area, settings in thresholds.TABLE.items():
        for name, threshold in settings.items():
            if threshold.default is not None:
                assert threshold.source and threshold.cite, f"{area}.{name}"
                assert threshold.source == thresholds.POLICY or threshold.cite.startswith("https://learn.microsoft.com/")


def test_the_table_and_the_config_schema_name_the_same_settings():
    schema = json.loads(schema_path("config.schema.json").read_text(encoding="utf-8"))
    areas = schema["properties"]["thresholds"]["properties"]
    assert {area: set(block["properties"]) for area, block in areas.items()} == \
        {area: set(settings) for area, settings in thresholds.TABLE.items()}


def test_an_empty_allow_list_is_refused_when_the_file_is_read(tmp_path: Path):
    config = tmp_path / "vdcaudit.yaml"
    config.write_text("thresholds:\n  disks:\n    allowed_disk_encryption_sets: []\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_config(config)


def test_check_refuses_what_the_rules_cannot_use():
    with pytest.raises(InputError, match="thresholds.key_vault_certificates.min_days_to_expiry"):
        thresholds.check({"thresholds": {"key_vault_certificates": {"min_days_to_expiry": "30"}}})
    with pytest.raises(InputError, match="unknown setting"):
        thresholds.check({"thresholds": {"key_vault_keys": {"max_age": 3}}})
    thresholds.check({"thresholds": {"key_vault_keys": {"max_active_days": 0}, "disks": None}})
