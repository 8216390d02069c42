"""The integrators' contract in webhooks/: JSON Schemas and signed examples, made from the code.

Schemas come from the same marshmallow classes that validate requests (through apispec, which
also builds the OpenAPI document), so the published contract cannot say something else.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter

from .catalogue import CATALOGUE, EventType
from .schemas import EnvelopeSchema
from .signature import sign

CONTRACT_DIR = Path(__file__).resolve().parent.parent.parent / "webhooks"
# A published, example-only secret: the examples verify with it, nothing else does.
EXAMPLE_SECRET = "whsec_" + base64.b64encode(b"loyalty-social-example-secret-32b").decode()
EXAMPLE_TIMESTAMP = 1795000000  # fixed, so the files only change when the schemas do
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _converter() -> OpenAPIConverter:
    spec = APISpec("webhooks", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    return OpenAPIConverter("3.1.0", lambda schema: None, spec)


def json_schema(event_type: EventType) -> dict:
    """The whole webhook body of one type and version, as JSON Schema 2020-12."""
    converter = _converter()
    envelope = converter.schema2jsonschema(EnvelopeSchema)
    data = converter.schema2jsonschema(event_type.schema)
    data["additionalProperties"] = True
    envelope["properties"]["type"] = {"const": event_type.name}
    envelope["properties"]["version"] = {
        "const": event_type.version,
        "default": 1,
        "description": "Type version",
    }
    envelope["properties"]["data"] = data
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://loyalty-social.dev/webhooks/{event_type.name}.v{event_type.version}.json",
        "title": f"{event_type.name} v{event_type.version}",
        "description": event_type.description,
        **envelope,
    }


def example_body(event_type: EventType) -> dict:
    return {
        "type": event_type.name,
        "version": event_type.version,
        "timestamp": "2026-11-20T09:30:00Z",
        "member_id": "M-1001",
        "evidence": "claimed",
        "data": event_type.example,
    }


def signed_example(event_type: EventType) -> dict:
    body = json.dumps(example_body(event_type), separators=(",", ":"))
    webhook_id = f"msg_example_{event_type.name.replace('.', '_')}"
    return {
        "secret": EXAMPLE_SECRET,
        "headers": {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(EXAMPLE_TIMESTAMP),
            "webhook-signature": sign(EXAMPLE_SECRET, webhook_id, EXAMPLE_TIMESTAMP, body.encode()),
        },
        "body": body,
    }


def _sent() -> list[EventType]:
    """What senders may send: the types Loyalty Social records itself are not in it."""
    types = (t for t in CATALOGUE.values() if not t.internal_only)
    return sorted(types, key=lambda t: (t.name, t.version))


def contract_files() -> dict[str, str]:
    """Relative path -> content of every generated file in webhooks/."""
    files = {}
    for event_type in _sent():
        stem = f"{event_type.name}.v{event_type.version}"
        files[f"schemas/{stem}.json"] = _dump(json_schema(event_type))
        files[f"examples/{event_type.name}.json"] = _dump(signed_example(event_type))
    files["catalogue.json"] = _dump(
        [
            {
                "type": t.name,
                "version": t.version,
                "description": t.description,
                "schema": f"schemas/{t.name}.v{t.version}.json",
                "example": f"examples/{t.name}.json",
            }
            for t in _sent()
        ]
    )
    return files


def _dump(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def write_contract(directory: Path = CONTRACT_DIR) -> list[str]:
    written = []
    for relative, content in contract_files().items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            written.append(relative)
    return written


def drifted_files(directory: Path = CONTRACT_DIR) -> list[str]:
    """Generated files that are missing or differ from the code."""
    return [
        relative
        for relative, content in contract_files().items()
        if not (directory / relative).exists() or (directory / relative).read_text() != content
    ]
