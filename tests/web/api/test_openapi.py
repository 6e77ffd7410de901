"""The API reference is complete: every operation of the case actions and the admin objects
has a summary, and examples of what it takes and what it returns."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

NEW_OPERATIONS = re.compile(
    r"^/api/v1/(conversations/\{conversation_id\}/(reply|shift|notes|relabel|assign|transfer"
    r"|snooze|resolve|reopen|canned-replies/\{reply_id\})|agents/\{user_id\}/(presence|skills|teams)|agents|teams|taxonom(y|ies)"
    r"|canned-replies.*|kb-articles.*|sla-policy|value-weights|policies|mentions.*|people.*|workspace)$"
)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _has_examples(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = _resolve(spec, media.get("schema", {}))
    if "examples" in schema:
        return True
    if schema.get("type") == "array" and "examples" in _resolve(spec, schema["items"]):
        return True
    # A page: its items carry the examples.
    items = schema.get("properties", {}).get("items", {}).get("items")
    if items is not None and "examples" in _resolve(spec, items):
        return True
    # A body that may be left out (anyOf [model, null]).
    return any("examples" in _resolve(spec, s) for s in schema.get("anyOf", []))


def test_every_new_operation_has_a_summary_and_examples(api: Any) -> None:
    spec = TestClient(api).get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not NEW_OPERATIONS.match(path):
            continue
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert _has_examples(spec, body), f"{where}: no request example"
            for status, response in op["responses"].items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("2") and media is not None and media.get("schema"):
                    assert _has_examples(spec, media), f"{where}: no {status} example"
            for status in ("400", "403", "404"):
                error = op["responses"].get(status, {}).get("content", {}).get("application/json")
                assert error and "example" in error, f"{where}: no {status} documented"
            checked += 1
    assert checked >= 25
