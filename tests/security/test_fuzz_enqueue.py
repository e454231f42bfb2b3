"""Hypothesis fuzz of POST /api/tasks bodies through Flask's test client: no answer is a 5xx.

Bodies are mostly JSON objects shaped like a task request (registered and unknown
names, arguments of every JSON type, huge numbers, NUL and astral characters,
limits pushed and exceeded, unknown fields), then other JSON documents, broken
JSON, deep nesting and other content types. The ledger is real: SQLite, and with
fewer examples PostgreSQL and MariaDB (their text columns are where a stray
character would surface as a 500). Derandomized, so a failure reproduces.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services import private_database

NAMES = ["api_echo", "api_unique", "api_fail", "api_steps", "count_words", "example", "nope", "os.system",
         "rqledger.entrypoints.task_entry.run_task", ""]

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.sampled_from(["\x00", "\ud83d\ude00", "a\x00b", "\u202e", "' OR 1=1 --", "<script>", "%s%n"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
numbers = (st.integers(min_value=-5, max_value=100_000) | st.integers() | st.floats(allow_nan=False)
           | st.sampled_from([0, 1, 60, 86_400, 86_401, 2**63, -1, True, "60", None]))
retry = st.fixed_dictionaries({}, optional={"max": numbers, "interval": numbers | st.lists(numbers, max_size=4)})

task_bodies = st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES) | st.text(max_size=20)},
    optional={
        "args": st.lists(json_values, max_size=4) | json_values,
        "kwargs": st.dictionaries(st.sampled_from(["count", "ratio", "flag", "label", "items", "steps", "pause"])
                                  | st.text(max_size=6), json_values, max_size=4) | json_values,
        "description": st.none() | st.text(max_size=50) | json_values,
        "owner": st.none() | st.text(max_size=20) | json_values,
        "queue": st.sampled_from([None, "default", "other", "", "rq:queue:default"]) | json_values,
        "timeout": numbers,
        "retry": st.none() | retry | json_values,
        "priority": json_values,  # not a field: refused
    })

# Requests that should be taken (202): strange but valid values, where the storage is tested
finite = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                      | st.text(max_size=30), lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)
echo_requests = st.fixed_dictionaries(
    {"name": st.just("api_echo"),
     "kwargs": st.fixed_dictionaries({"count": st.integers()}, optional={
         "ratio": st.integers() | st.floats(allow_nan=False, allow_infinity=False), "flag": st.booleans(),
         "label": st.text(max_size=200), "items": st.none() | st.lists(finite, max_size=4)})},
    optional={"description": st.none() | st.text(max_size=300), "owner": st.none() | st.text(min_size=1, max_size=200),
              "timeout": st.integers(1, 86_400), "queue": st.just("default"),
              "retry": st.fixed_dictionaries({"max": st.integers(0, 10)}, optional={
                  "interval": st.integers(0, 86_400) | st.lists(st.floats(0, 86_400), max_size=5)})})

documents = (echo_requests.map(json.dumps) | echo_requests.map(lambda body: json.dumps(body, ensure_ascii=False))
             | task_bodies.map(json.dumps)
             | json_values.map(json.dumps)
             | st.sampled_from(['{"name": "api_echo", "args": [1]', "{", "", "NaN", '{"name": "api_echo",}',
                                '{"name": "api_echo", "args": [' + "[" * 70 + "]" * 70 + "]}",
                                '{"name": "api_echo", "args": [1e999]}', '{"name": "\\ud800"}'])
             | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
content_types = st.sampled_from(["application/json"] * 8 + ["text/plain", "application/json; charset=latin-1",
                                                            "application/x-www-form-urlencoded"])


def fuzz(client, examples: int) -> Counter:
    seen: Counter = Counter()

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(body=documents, content_type=content_types)
    def post(body: str, content_type: str):
        response = client.post("/api/tasks", data=body.encode("utf-8", "surrogatepass"), content_type=content_type)
        seen[response.status_code] += 1
        assert response.status_code < 500, (body, response.get_data(as_text=True))
        document = response.get_json()
        if response.status_code == 202:
            assert document["id"] and response.headers["Location"].endswith(f"/api/tasks/{document['id']}")
        else:
            assert document["error"]["code"] and document["error"]["message"], document

    post()
    return seen


def test_fuzzed_task_bodies_never_get_a_server_error_on_sqlite(api):
    client, _ = api
    seen = fuzz(client, 300)
    print(f"\nPOST /api/tasks fuzz on SQLite, statuses: {dict(sorted(seen.items()))}")
    assert seen[202] >= 10 and seen[422] >= 10 and seen[400] >= 10  # the fuzz reached every kind of answer


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_fuzzed_task_bodies_never_get_a_server_error_on_other_databases(make_api, kind):
    from rqledger.adapters.sqlalchemy import upgrade

    with private_database(kind) as url:
        upgrade(url)
        app, container = make_api(DATABASE_URL=url)
        try:
            seen = fuzz(app.test_client(), 100)
        finally:
            container.database_engine().dispose()
    print(f"\nPOST /api/tasks fuzz on {kind}, statuses: {dict(sorted(seen.items()))}")
    assert seen[202] >= 10


STRANGE = {"name": "api_echo", "kwargs": {"count": 10**40, "label": "a\x00b\U0001F600\u202e",
                                          "items": [{"\x00k\U0001F600": "\ud7ff", "n": -(2**70)}]},
           "owner": "\U0001F600\u00f6", "description": "\U0001D518\U0001D52B\U0001D526 \U0001F600"}


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_strange_but_valid_values_are_stored_and_read_back_exactly(make_api, kind, api_ledger_url):
    from contextlib import nullcontext

    from rqledger.adapters.sqlalchemy import upgrade

    with (nullcontext(api_ledger_url) if kind == "sqlite" else private_database(kind)) as url:
        upgrade(url)
        app, container = make_api(DATABASE_URL=url)
        client = app.test_client()
        try:
            response = client.post("/api/tasks", json=STRANGE)
            assert response.status_code == 202, response.get_json()
            stored = client.get(response.headers["Location"]).get_json()
            assert (stored["kwargs"], stored["owner"], stored["description"]) == \
                (STRANGE["kwargs"], STRANGE["owner"], STRANGE["description"])
            assert [t["id"] for t in client.get("/api/tasks", query_string={"owner": STRANGE["owner"]})
                    .get_json()["items"]] == [stored["id"]]
        finally:
            container.database_engine().dispose()
