"""enqueue(..., connection=...): the row in the app's own transaction, the job in Redis only once it commits.

On SQLite, PostgreSQL and MariaDB; the app's engine is a plain SQLAlchemy engine of its own (not the
ledger's), its table `app_posts` lives beside the ledger's tables, and a real worker runs what commits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job
from sqlalchemy.orm import Session

from rqledger import Ledger
from tests.integration.rq.conftest import TASK_MODULE
from tests.integration.rq.processes import ROOT

pytestmark = pytest.mark.integration

DATABASES = ["sqlite", "postgresql", "mysql"]


@pytest.fixture
def app_ledger(ledger_env):
    ledger = Ledger(database_url=ledger_env["DATABASE_URL"], redis_url=ledger_env["REDIS_URL"],
                    task_modules=[TASK_MODULE])
    yield ledger
    ledger.container.rq_connection().close()
    ledger.close()


@pytest.fixture
def app_engine(ledger_env):
    """The app's own engine on the same database, with a table of the app's own."""
    engine = sa.create_engine(ledger_env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE app_posts (id INTEGER PRIMARY KEY, title VARCHAR(100))"))
    yield engine
    engine.dispose()


def queued_jobs(ledger) -> int:
    return Queue("default", connection=ledger.container.rq_connection()).count


def has_job(ledger, task_id) -> bool:
    return Job.exists(str(task_id), connection=ledger.container.rq_connection())


def rows(ledger) -> list:
    return ledger.tasks().items


def eventually(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_connection_that_commits_hands_the_job_over_after_the_commit_and_it_runs_once(
        app_ledger, app_engine, start_worker):
    with app_engine.connect() as conn:
        conn.execute(sa.text("INSERT INTO app_posts (id, title) VALUES (1, 'first')"))
        task = app_ledger.enqueue("export_user_posts", args=[1], owner=1, connection=conn)
        assert task.status == "queued" and task.id is not None
        time.sleep(0.2)
        assert not has_job(app_ledger, task.id)  # nothing reaches Redis before the commit
        conn.commit()
    eventually(lambda: has_job(app_ledger, task.id))
    assert start_worker("--burst").wait(60) == 0
    done = app_ledger.get(task.id)
    assert (done.status, done.attempts, done.result) == ("finished", 1, {"user": 1, "posts": 3})


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_session_that_commits_hands_the_job_over_in_its_commit(app_ledger, app_engine):
    with Session(app_engine) as session:
        session.execute(sa.text("INSERT INTO app_posts (id, title) VALUES (1, 'first')"))
        task = app_ledger.enqueue("greet", args=["Ada"], connection=session)
        assert not has_job(app_ledger, task.id)
        session.commit()
        assert has_job(app_ledger, task.id)  # after_commit: no waiting
    assert [t.id for t in rows(app_ledger)] == [task.id]
    assert queued_jobs(app_ledger) == 1


def test_a_scoped_session_like_flask_sqlalchemys_db_session_is_this_threads_session(app_ledger, app_engine):
    from sqlalchemy.orm import scoped_session, sessionmaker

    db_session = scoped_session(sessionmaker(app_engine))  # what Flask-SQLAlchemy's db.session is
    db_session.execute(sa.text("INSERT INTO app_posts (id, title) VALUES (1, 'first')"))
    task = app_ledger.enqueue("greet", args=["Ada"], connection=db_session)
    assert not has_job(app_ledger, task.id)
    db_session.commit()
    assert has_job(app_ledger, task.id)
    db_session.remove()
    assert [t.id for t in rows(app_ledger)] == [task.id]


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
@pytest.mark.parametrize("kind", ["connection", "session"])
@pytest.mark.parametrize("name, args", [("greet", ["Ada"]), ("export_user_posts", [1])])  # export_user_posts is unique
def test_a_transaction_that_rolls_back_leaves_no_row_and_no_job(app_ledger, app_engine, kind, name, args):
    if kind == "connection":
        with app_engine.connect() as conn:
            app_ledger.enqueue(name, args=args, connection=conn)  # the transaction's first statement
            conn.rollback()
            conn.execute(sa.text("INSERT INTO app_posts (id, title) VALUES (2, 'later')"))
            conn.commit()  # a later commit of the same connection hands nothing over
    else:
        with Session(app_engine) as session:
            app_ledger.enqueue(name, args=args, connection=session)
            session.rollback()
            session.execute(sa.text("INSERT INTO app_posts (id, title) VALUES (2, 'later')"))
            session.commit()
    time.sleep(0.3)
    assert rows(app_ledger) == []
    assert queued_jobs(app_ledger) == 0
    with app_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT title FROM app_posts")).scalars().all() == ["later"]


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_process_that_dies_between_the_commit_and_the_hand_off_is_repaired_by_the_reconciler(
        app_ledger, app_engine, ledger_env, start_worker):
    script = textwrap.dedent(f"""
        import os
        import sqlalchemy as sa
        from sqlalchemy import event
        from sqlalchemy.orm import Session
        from rqledger import Ledger

        ledger = Ledger(database_url={ledger_env['DATABASE_URL']!r}, redis_url={ledger_env['REDIS_URL']!r},
                        task_modules=[{TASK_MODULE!r}])
        session = Session(sa.create_engine({str(app_engine.url.render_as_string(hide_password=False))!r}))
        event.listen(session, "after_commit", lambda s: os._exit(0))  # first in line: dies before the hand-off
        print(ledger.enqueue("answer", connection=session).id, flush=True)
        session.commit()
        raise SystemExit("the commit should not return")
    """)
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    task_id = int(done.stdout.split()[0])
    assert app_ledger.get(task_id).status == "queued"
    assert not has_job(app_ledger, task_id)

    report = app_ledger.container.reconcile_tasks(grace=0)()
    assert report.requeued == [task_id]
    assert start_worker("--burst").wait(60) == 0
    done = app_ledger.get(task_id)
    assert (done.status, done.attempts, done.result) == ("finished", 1, {"result": 42})


def test_a_connection_to_another_database_is_refused(app_ledger, tmp_path):
    other = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with other.connect() as conn, pytest.raises(ValueError, match="must be in the connection's database"):
        app_ledger.enqueue("greet", args=["Ada"], connection=conn)
    other.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_ledger_in_a_postgresql_schema_of_its_own_is_written_through_the_apps_session(
        database_url, redis_url, ledger_env):
    from rqledger.adapters.sqlalchemy import upgrade
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.settings import load_settings

    upgrade(database_url, schema="ledger")
    ledger = Ledger(container=build_container(load_settings({**ledger_env, "RQLEDGER_DB_SCHEMA": "ledger"})))
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with Session(engine) as session:
            task = ledger.enqueue("greet", args=["Ada"], connection=session)
            session.commit()
        assert has_job(ledger, task.id)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name FROM ledger.rqledger_tasks")).scalars().all() == ["greet"]
        assert [t.id for t in rows(ledger)] == [task.id]
    finally:
        engine.dispose()
        ledger.container.rq_connection().close()
        ledger.close()
