"""Task modules: imported from the folders given, and a module that cannot be imported is one line that says why."""

from __future__ import annotations

import logging
import os
import sys
import uuid

import pytest

from rqledger.application.registry import TaskRegistry, task
from rqledger.entrypoints.dev import DevOptions, DevServer, dev_task_modules
from rqledger.entrypoints.task_modules import (TaskModuleError, announce, explain, import_task_modules,
                                               put_first_on_sys_path)


@pytest.fixture
def package(tmp_path):
    """A uniquely named package in a folder of its own, and sys.path and sys.modules as they were afterwards."""
    name = f"app_{uuid.uuid4().hex[:8]}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    path, modules = list(sys.path), set(sys.modules)
    yield tmp_path, name
    sys.path[:] = path
    for module in set(sys.modules) - modules:
        del sys.modules[module]


def test_a_module_is_imported_from_the_folders_given(package):
    folder, name = package
    (folder / name / "tasks.py").write_text("LOADED = True\n")
    import_task_modules([f"{name}.tasks"], [str(folder)])
    assert sys.modules[f"{name}.tasks"].LOADED
    assert str(folder) in sys.path


def test_a_missing_module_names_itself_and_the_folders_searched(package):
    folder, name = package
    with pytest.raises(TaskModuleError) as caught:
        import_task_modules([f"{name}.tasks"], [str(folder)])
    message = str(caught.value)
    assert message.startswith(f"cannot import task module '{name}.tasks': No module named '{name}.tasks' (searched ")
    assert str(folder) in message and "--path DIR or RQLEDGER_PATH" in message
    assert "\n" not in message and caught.value.module == f"{name}.tasks"


def test_a_syntax_error_points_at_the_file_and_line(package):
    folder, name = package
    (folder / name / "tasks.py").write_text("import os\n\ndef broken(:\n    pass\n")
    with pytest.raises(TaskModuleError, match=rf"SyntaxError: .* at {folder / name / 'tasks.py'}:3 "):
        import_task_modules([f"{name}.tasks"], [str(folder)])


def test_an_error_raised_by_the_modules_code_names_it_and_where(package):
    folder, name = package
    (folder / name / "tasks.py").write_text("import os\nimport not_installed_anywhere_x\n")
    with pytest.raises(TaskModuleError, match=rf"cannot import task module '{name}.tasks': ModuleNotFoundError: "
                                              rf"No module named 'not_installed_anywhere_x' at "
                                              rf"{folder / name / 'tasks.py'}:2 "):
        import_task_modules([f"{name}.tasks"], [str(folder)])


def test_a_missing_dependency_of_the_demo_says_which_extra_to_install():
    missing = ModuleNotFoundError("No module named 'feedparser'", name="feedparser")
    assert explain("rqledger.demo", missing) == ("the demo tasks (rqledger.demo) need feedparser, which is not "
                                                 "installed: pip install 'rqledger[demo]'")
    assert "pillow" in explain("rqledger.demo", ModuleNotFoundError("No module named 'PIL'", name="PIL"))


def test_folders_put_first_keep_their_order_and_appear_once(tmp_path, package):
    first, second = tmp_path / "first", tmp_path / "second"
    put_first_on_sys_path([str(first), str(second), str(first)])
    assert sys.path[:2] == [str(first), str(second)] and sys.path.count(str(first)) == 1


def test_a_process_without_task_modules_says_so_in_one_warning(caplog):
    registry = TaskRegistry()
    with caplog.at_level(logging.INFO, logger="test.announce"):
        announce(logging.getLogger("test.announce"), [], registry)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "no task modules" in record.getMessage()


def test_a_process_with_task_modules_names_them_and_their_task_types(caplog):
    registry = TaskRegistry()
    task(lambda: None, name="greet", registry=registry)
    with caplog.at_level(logging.INFO, logger="test.announce"):
        announce(logging.getLogger("test.announce"), ["app.tasks"], registry)
    assert caplog.records[0].getMessage() == "task modules app.tasks: 1 task types (greet)"


@pytest.mark.parametrize("tasks,demo,env,modules", [
    (None, None, {}, ["rqledger.demo"]),                                   # plain `rqledger dev`: the demo
    (None, None, {"RQLEDGER_TASK_MODULES": "app.tasks"}, ["app.tasks"]),   # yours instead of the demo
    ("app.tasks,app.more", None, {"RQLEDGER_TASK_MODULES": "x"}, ["app.tasks", "app.more"]),  # --tasks wins
    ("app.tasks", True, {}, ["app.tasks", "rqledger.demo"]),              # --demo: both
    (None, False, {}, []),                                                 # --no-demo: nothing
    ("rqledger.demo", False, {}, ["rqledger.demo"]),                       # named explicitly: kept
])
def test_dev_runs_the_demo_only_when_given_no_task_modules_or_told_to(tasks, demo, env, modules):
    assert dev_task_modules(tasks, demo, env) == modules


def test_devs_children_get_its_task_modules_and_folders_made_absolute(tmp_path):
    server = DevServer(DevOptions(tasks="app.tasks"), environ={"RQLEDGER_PATH": f"src{os.pathsep}/srv/lib"},
                       cwd=tmp_path)
    env = server._child_env()
    assert env["RQLEDGER_TASK_MODULES"] == "app.tasks"
    assert env["RQLEDGER_PATH"] == os.pathsep.join([str(tmp_path / "src"), "/srv/lib"])
