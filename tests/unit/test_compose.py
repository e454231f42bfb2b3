"""docker-compose.yml and the Dockerfile keep up with the code (no Docker engine here: structure only)."""

import re
from pathlib import Path

import click
import pytest
import yaml

from rqledger.entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "scheduler")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def settings_variables() -> set[str]:
    """Every environment variable entrypoints/settings.py reads."""
    return set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "entrypoints" / "settings.py").read_text()))


def test_it_has_redis_postgres_a_one_shot_upgrade_web_worker_and_scheduler(services):
    assert set(services) == {"redis", "postgres", "migrate", "web", "worker", "scheduler"}


@pytest.mark.parametrize("service,command", [
    ("migrate", ["rqledger", "db", "upgrade"]),
    ("web", ["rqledger", "web", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]),
    ("worker", ["rqledger", "worker"]),
    ("scheduler", ["rqledger", "scheduler"]),
])
def test_each_process_runs_its_rqledger_command(services, service, command):
    assert services[service]["command"] == command


@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_command_is_one_the_cli_accepts(services, service):
    program, *args = services[service]["command"]
    assert program == "rqledger"
    command = main
    while isinstance(command, click.Group):
        name, *args = args
        command = command.commands[name]
    command.make_context(name, args)  # raises a UsageError for an unknown option or a bad value


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_app_services_point_at_the_compose_redis_and_postgres(services, service):
    env = services[service]["environment"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert re.fullmatch(r"postgresql://rqledger:\$\{POSTGRES_PASSWORD:-rqledger\}@postgres:5432/rqledger",
                        env["DATABASE_URL"])
    assert "RQLEDGER_STORAGE" not in env and "RQLEDGER_QUEUE_BACKEND" not in env  # the real adapters


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_given_is_one_rqledger_reads(services, service):
    assert set(services[service]["environment"]) <= settings_variables()


def test_the_documented_configuration_is_passed_through(services):
    env = services["worker"]["environment"]
    for name in ("RQLEDGER_API_TOKEN", "RQLEDGER_ALLOWED_HOSTS", "RQLEDGER_TASK_MODULES", "RQLEDGER_QUEUES",
                 "RQLEDGER_TIMEZONE", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS", "MAIL_SENDER"):
        assert name in env


def test_the_web_answers_to_the_host_names_the_operator_gives(services):
    # bound to 0.0.0.0, the web checks no Host name unless told which ones it is reached by
    assert services["web"]["environment"]["RQLEDGER_ALLOWED_HOSTS"] == "${RQLEDGER_ALLOWED_HOSTS:-}"
    assert "RQLEDGER_ALLOWED_HOSTS" in settings_variables()


def test_the_worker_can_be_scaled(services):
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_the_schema_is_upgraded_once_before_anything_else_starts(services):
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in ("web", "worker", "scheduler"):
        assert services[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[service]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_postgres_uses_the_credentials_of_the_url(services):
    env = services["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("rqledger", "rqledger")
    assert env["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-rqledger}"


def test_only_the_web_publishes_a_port(services):
    assert [name for name, s in services.items() if "ports" in s] == ["web"]
    assert services["web"]["ports"] == ["${RQLEDGER_PORT:-8000}:8000"]


def test_data_lives_in_volumes(compose, services):
    assert set(compose["volumes"]) == {"data", "redis", "postgres"}
    assert "postgres:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_the_app_services_build_the_dockerfile_and_it_copies_what_exists(services):
    for service in APP_SERVICES:
        assert services[service]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+) ", dockerfile, flags=re.M):
        assert (ROOT / source).exists(), source
    assert "USER rqledger" in dockerfile
    layers = re.findall(r'^LAYERS = \((.*?)\)', (ROOT / "setup.py").read_text(), flags=re.M)[0]
    for package in [*re.findall(r'"(\w+)"', layers), "rqledger"]:
        assert f"COPY {package} ./{package}" in dockerfile
    assert re.search(r"^COPY pyproject.toml setup.py ", dockerfile, flags=re.M)
