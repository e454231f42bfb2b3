import pytest

from tests.services import private_database, private_redis_db


@pytest.fixture
def redis_url():
    """A Redis URL with a database number of this test's own (flushed before and after)."""
    with private_redis_db() as url:
        yield url


@pytest.fixture
def postgres_url():
    with private_database("postgresql") as url:
        yield url


@pytest.fixture
def mysql_url():
    with private_database("mysql") as url:
        yield url
