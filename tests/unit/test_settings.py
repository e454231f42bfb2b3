"""Settings read from the environment: the durability switch, the task modules and where they are found."""

import os

import pytest

from rqledger.entrypoints.dev_session import write_session
from rqledger.entrypoints.settings import load_settings


def test_the_ledger_is_durable_unless_told_otherwise():
    assert load_settings({})["durability"] == "durable"
    assert load_settings({"RQLEDGER_DURABILITY": " Fast "})["durability"] == "fast"


def test_an_unknown_durability_names_the_choices():
    with pytest.raises(ValueError, match="RQLEDGER_DURABILITY must be one of durable, fast, not 'quick'"):
        load_settings({"RQLEDGER_DURABILITY": "quick"})


def test_no_task_modules_are_loaded_unless_named():
    assert load_settings({})["task_modules"] == []
    assert load_settings({"RQLEDGER_TASK_MODULES": " "})["task_modules"] == []


def test_task_modules_are_a_comma_list():
    assert load_settings({"RQLEDGER_TASK_MODULES": "app.tasks, rqledger.demo,"})["task_modules"] == \
        ["app.tasks", "rqledger.demo"]


def test_rqledger_path_is_a_list_of_folders_separated_by_os_pathsep():
    value = os.pathsep.join(["src", "", " /srv/lib ", ""])
    assert load_settings({"RQLEDGER_PATH": value})["task_path"] == ["src", "/srv/lib"]
    assert load_settings({})["task_path"] == []


@pytest.fixture
def beside_a_dev(tmp_path, monkeypatch):
    """The current directory is that of a running `rqledger dev` (this process plays it), nothing else set."""
    for name in ("REDIS_URL", "DATABASE_URL", "RQLEDGER_TASK_MODULES", "RQLEDGER_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write_session(tmp_path, "redis://127.0.0.1:7777/0", "sqlite:///dev.db", "http://127.0.0.1:8000/",
                  task_modules=["app.tasks", "rqledger.demo"], folders=["/srv/app"])
    return monkeypatch


def test_a_command_beside_dev_uses_its_services_task_modules_and_folders(beside_a_dev):
    settings = load_settings()
    assert settings["redis_url"] == "redis://127.0.0.1:7777/0"
    assert settings["task_modules"] == ["app.tasks", "rqledger.demo"]
    assert settings["task_path"] == ["/srv/app"]


def test_task_modules_named_in_the_environment_win_over_the_dev_sessions(beside_a_dev):
    beside_a_dev.setenv("RQLEDGER_TASK_MODULES", "other.tasks")
    beside_a_dev.setenv("RQLEDGER_PATH", "/srv/other")
    settings = load_settings()
    assert settings["redis_url"] == "redis://127.0.0.1:7777/0"
    assert (settings["task_modules"], settings["task_path"]) == (["other.tasks"], ["/srv/other"])


def test_the_folders_of_the_environment_come_before_the_dev_sessions(beside_a_dev):
    beside_a_dev.setenv("RQLEDGER_PATH", "/srv/mine")
    assert load_settings()["task_path"] == ["/srv/mine", "/srv/app"]
