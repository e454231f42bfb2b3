"""The API token: compared in constant time (hmac.compare_digest in entrypoints/web/access.py), never in a
cookie, never leaked by the open endpoints."""

from __future__ import annotations

import pytest

TOKEN = "k3y-0123456789-abcdef"


@pytest.fixture
def guarded(make_api):
    app, _ = make_api(RQLEDGER_API_TOKEN=TOKEN)
    return app.test_client()


@pytest.mark.parametrize("given", [
    TOKEN[:-1] + "0",            # same length, last character differs
    "x" + TOKEN[1:],             # same length, first character differs
    TOKEN[:-1],                  # a prefix
    TOKEN + "0",                 # the token and more
    TOKEN.upper(),               # case matters
    "\u00e9" * len(TOKEN),       # same length in characters, not in bytes
    TOKEN + "\x00",              # a NUL after it
])
def test_a_near_miss_token_is_401(guarded, given):
    response = guarded.post("/api/tasks", json={"name": "api_echo", "args": [1]},
                            headers={"Authorization": f"Bearer {given}"})
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert guarded.get("/api/tasks", headers={"Authorization": f"Bearer {TOKEN}"}).get_json()["items"] == []


def test_the_right_token_is_taken(guarded):
    response = guarded.post("/api/tasks", json={"name": "api_echo", "args": [1]},
                            headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202


def test_the_token_in_a_query_string_is_refused_outside_the_event_stream(guarded):
    assert guarded.get(f"/api/tasks?token={TOKEN}").status_code == 401


def test_no_answer_sets_a_cookie(guarded):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    answers = [guarded.get(path, headers=headers) for path in ("/", "/api/health", "/api/tasks", "/openapi.json",
                                                               "/dashboard/sections/active", "/metrics")]
    answers.append(guarded.post("/api/tasks", json={"name": "api_echo", "args": [1]}, headers=headers))
    answers.append(guarded.get("/api/tasks"))  # a 401 too
    for response in answers:
        assert "Set-Cookie" not in response.headers, response.request.path


def test_the_open_health_check_names_no_secret(make_api):
    # A database and a Redis that refuse connections, their URLs with passwords in them
    app, _ = make_api(unavailable_ok=True, RQLEDGER_API_TOKEN=TOKEN, RQLEDGER_QUEUE_BACKEND="rq",
                      DATABASE_URL="postgresql+psycopg://ledger:db-pa55word@127.0.0.1:1/ledger",
                      REDIS_URL="redis://:redis-pa55word@127.0.0.1:1/0")
    response = app.test_client().get("/api/health")  # open to anyone
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "pa55word" not in text and TOKEN not in text, text
