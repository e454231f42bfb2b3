"""Queues are shared by every owner: an owner's token may neither list nor pause them; an admin's may."""

from __future__ import annotations


def test_an_owners_token_may_not_see_or_pause_queues(make_api):
    app, _ = make_api(RQLEDGER_API_TOKENS="ana-0123456789abcdef:ana,ops-0123456789abcdef:*")
    client = app.test_client()
    ana = {"Authorization": "Bearer ana-0123456789abcdef"}
    ops = {"Authorization": "Bearer ops-0123456789abcdef"}
    assert client.get("/api/queues", headers=ana).status_code == 403
    assert client.get("/api/workers", headers=ana).status_code == 403
    assert client.post("/api/queues/default/pause", headers=ana).status_code == 403
    assert client.get("/api/queues", headers=ops).get_json()["items"][0]["paused"] is False
    assert client.post("/api/queues/default/pause", headers=ops).status_code == 200
