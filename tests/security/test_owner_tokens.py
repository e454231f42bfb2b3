"""RQLEDGER_API_TOKENS: a multi-tenant `rqledger web` without Flask code, each token acting for one owner
(`*`: an admin), scoped exactly like the Flask extension's logged-in users (entrypoints/web/scope.py)."""

from __future__ import annotations

import pytest

from rqledger.entrypoints.web.access import parse_tokens

ANA, BOB, OPS = "ana-0123456789abcdef", "bob-0123456789abcdef", "ops-0123456789abcdef"
TOKENS = f"{ANA}:ana,{BOB}:bob,{OPS}:*"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(make_api):
    app, _ = make_api(RQLEDGER_API_TOKENS=TOKENS)
    return app.test_client()


def test_each_token_sees_and_steers_only_its_owners_tasks(client):
    ana = client.post("/api/tasks", json={"name": "api_echo", "args": [1]}, headers=bearer(ANA))
    assert ana.status_code == 202 and ana.get_json()["owner"] == "ana"
    task_id = ana.get_json()["id"]
    assert client.get(f"/api/tasks/{task_id}", headers=bearer(BOB)).status_code == 404
    assert client.post(f"/api/tasks/{task_id}/cancel", headers=bearer(BOB)).status_code == 404
    assert client.get("/api/tasks", headers=bearer(BOB)).get_json()["items"] == []
    assert [t["id"] for t in client.get("/api/tasks", headers=bearer(ANA)).get_json()["items"]] == [task_id]
    refused = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "owner": "ana"}, headers=bearer(BOB))
    assert refused.status_code == 403


def test_the_star_token_is_an_admin(client):
    task_id = client.post("/api/tasks", json={"name": "api_echo", "args": [1]}, headers=bearer(ANA)).get_json()["id"]
    assert [t["id"] for t in client.get("/api/tasks", headers=bearer(OPS)).get_json()["items"]] == [task_id]
    assert client.get("/metrics", headers=bearer(OPS)).status_code == 200
    assert client.get("/metrics", headers=bearer(ANA)).status_code == 403


def test_without_a_token_or_with_an_unknown_one_it_is_401(client):
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks", headers=bearer("x" * 20)).status_code == 401
    assert client.get("/api/health").status_code == 200  # what is down, for anyone


def test_the_shared_token_still_sees_everything_beside_owner_tokens(make_api):
    app, _ = make_api(RQLEDGER_API_TOKENS=TOKENS, RQLEDGER_API_TOKEN="shared-0123456789abcdef")
    client = app.test_client()
    client.post("/api/tasks", json={"name": "api_echo", "args": [1]}, headers=bearer(BOB))
    assert len(client.get("/api/tasks", headers=bearer("shared-0123456789abcdef")).get_json()["items"]) == 1


def test_tokens_can_come_from_a_file(tmp_path, make_api):
    listing = tmp_path / "tokens"
    listing.write_text(f"# who may use this rqledger\n{ANA}:ana\n\n{OPS}:*  # the on-call\n")
    assert parse_tokens(str(listing)) == {ANA: "ana", OPS: "*"}
    app, _ = make_api(RQLEDGER_API_TOKENS=str(listing))
    assert app.test_client().get("/api/tasks", headers=bearer(ANA)).status_code == 200


@pytest.mark.parametrize("value, message", [
    ("just-a-token-without-owner", "not token:owner"),
    ("short:ana", "at least 16 characters"),
    (f"{ANA}:ana,{ANA}:bob", "listed twice"),
    (f"{ANA}:" + "x" * 201, "1 to 200 characters"),
])
def test_a_bad_entry_is_refused_at_start_with_a_message(value, message, make_api):
    with pytest.raises(ValueError, match=message):
        make_api(RQLEDGER_API_TOKENS=value)
