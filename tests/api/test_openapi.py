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


def spec_of(client) -> dict:
    response = client.get("/openapi.json")
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
    assert {"202", "400", "401", "409", "413", "415", "422", "503"} <= set(create)
    assert "Location" in create["202"]["headers"]
    assert spec["paths"]["/api/health"]["get"]["security"] == []
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["paths"]["/api/schedules"]["post"]["responses"]) >= {"200", "201", "422"}
