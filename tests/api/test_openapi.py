"""/openapi.json is generated from the same schemas that validate requests, and it is a valid document."""

from __future__ import annotations

from openapi_spec_validator import validate

CONTRACT = {
    ("get", "/api/health"), ("get", "/api/task-types"), ("post", "/api/tasks"), ("get", "/api/tasks"),
    ("get", "/api/tasks/{task_id}"), ("post", "/api/tasks/{task_id}/cancel"), ("post", "/api/tasks/{task_id}/retry"),
    ("delete", "/api/tasks/{task_id}"), ("post", "/api/schedules"), ("get", "/api/schedules"),
    ("get", "/api/schedules/{schedule_id}"), ("get", "/api/schedules/{schedule_id}/runs"),
    ("post", "/api/schedules/{schedule_id}/cancel"), ("delete", "/api/schedules/{schedule_id}"),
    ("get", "/api/events"), ("post", "/api/tasks/batch"),
}


def spec_of(client, **headers: str) -> dict:
    response = client.get("/openapi.json", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi(client):
    validate(spec_of(client))


def test_it_describes_every_operation_of_the_contract(client):
    spec = spec_of(client)
    operations = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert CONTRACT <= operations
    assert not any(path.startswith("/dashboard") for path in spec["paths"])


def test_request_schemas_come_from_the_validators(client):
    spec = spec_of(client)
    task_in = spec["components"]["schemas"]["TaskIn"]
    assert task_in["required"] == ["name"] and task_in["additionalProperties"] is False
    assert task_in["properties"]["name"]["maxLength"] == 200
    limit = next(p for p in spec["paths"]["/api/tasks"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 500 and limit["schema"]["minimum"] == 1


def test_every_documented_error_has_the_error_shape(client):
    spec = spec_of(client)
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]
    create = spec["paths"]["/api/tasks"]["post"]["responses"]
    assert {"202", "400", "409", "413", "415", "422", "503"} <= set(create)
    assert "Location" in create["202"]["headers"]
    assert set(spec["paths"]["/api/schedules"]["post"]["responses"]) >= {"200", "201", "422"}


def test_with_a_token_every_operation_but_health_requires_it(make_app):
    spec = spec_of(make_app(RQLEDGER_API_TOKEN="t0ken").test_client(), Authorization="Bearer t0ken")
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/health"]["get"]["security"] == []
    assert "401" in spec["paths"]["/api/tasks"]["post"]["responses"]
    validate(spec)


def test_without_a_token_the_document_requires_no_auth(client):
    spec = spec_of(client)
    assert "security" not in spec and "securitySchemes" not in spec.get("components", {})
    assert not any("401" in operation["responses"] for item in spec["paths"].values() for operation in item.values())
    assert client.get("/api/tasks").status_code == 200  # as the server does


def test_every_schedule_write_documents_its_409(client):
    paths = spec_of(client)["paths"]
    for method, path in [("post", "/api/schedules"), ("post", "/api/schedules/{schedule_id}/cancel"),
                         ("delete", "/api/schedules/{schedule_id}")]:
        assert "409" in paths[path][method]["responses"], (method, path)
