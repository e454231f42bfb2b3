"""Settings read from the environment: the durability switch."""

import pytest

from entrypoints.settings import load_settings


def test_the_ledger_is_durable_unless_told_otherwise():
    assert load_settings({})["durability"] == "durable"
    assert load_settings({"RQLEDGER_DURABILITY": " Fast "})["durability"] == "fast"


def test_an_unknown_durability_names_the_choices():
    with pytest.raises(ValueError, match="RQLEDGER_DURABILITY must be one of durable, fast, not 'quick'"):
        load_settings({"RQLEDGER_DURABILITY": "quick"})
