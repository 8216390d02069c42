"""The OpenAPI document an integrator reads: small (the grammar referenced, not inlined), an
example for every request body, and examples that say what the schemas say."""

import json

import jsonschema
import pytest

from loyalty_social.rules import grammar
from loyalty_social.rules.conditions import OPERATORS
from loyalty_social.rules.payouts import REWARD_KINDS

MAX_BYTES = 300 * 1000
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def served(sqlite_config, make_app):
    response = make_app(sqlite_config).test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response


def request_bodies(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS and "requestBody" in operation:
                for media_type, media in operation["requestBody"]["content"].items():
                    yield f"{method.upper()} {path} ({media_type})", media


def test_document_is_at_most_300_kb(served):
    assert len(served.data) <= MAX_BYTES, f"{len(served.data)} bytes"


def test_every_request_body_has_an_example(served):
    bodies = dict(request_bodies(served.json))
    assert "POST /api/v1/rules (application/json)" in bodies
    missing = [name for name, media in bodies.items() if not {"example", "examples"} & set(media)]
    assert missing == []


def test_request_examples_are_valid_against_their_schemas(served):
    document = served.json
    checked = 0
    for name, media in request_bodies(document):
        examples = [media["example"]] if "example" in media else []
        examples += [e["value"] for e in media.get("examples", {}).values()]
        # "#/components/..." resolves against the schema's root: give it the components
        schema = {**media["schema"], "components": document["components"]}
        for example in examples:
            errors = list(jsonschema.Draft202012Validator(schema).iter_errors(example))
            assert errors == [], (name, [e.message for e in errors])
            checked += 1
    assert checked >= 14


def test_the_condition_grammar_is_referenced_once(served):
    schemas = served.json["components"]["schemas"]
    assert schemas["Rule"]["properties"]["conditions"]["anyOf"][0] == {
        "$ref": "#/components/schemas/Condition"
    }
    assert schemas["Rule"]["properties"]["rewards"]["items"] == {
        "$ref": "#/components/schemas/Reward"
    }
    assert schemas["All"]["properties"]["all"]["items"] == {
        "$ref": "#/components/schemas/NestedCondition"
    }
    # the field pattern is written once per clause shape on a field, not at every use
    pattern = json.dumps(grammar.field_pattern())
    holders = [name for name, schema in schemas.items() if pattern in json.dumps(schema)]
    assert sorted(holders) == sorted(
        shape.__name__.removesuffix("Schema")
        for shape in grammar.CLAUSE_SHAPES
        if "field" in shape._declared_fields
    )
    assert json.dumps(served.json).count(pattern) == len(holders)


def _operators(shape) -> set[str]:
    return set(shape._declared_fields["op"].validate.choices)


def test_documented_operators_and_reward_kinds_are_the_registries():
    documented = [op for shape in grammar.OPERATOR_SHAPES.values() for op in _operators(shape)]
    assert sorted(documented) == sorted(OPERATORS)  # each once
    kinds = [s._declared_fields["kind"].validate.choices[0] for s in grammar.REWARD_SHAPES]
    assert sorted(kinds) == sorted(REWARD_KINDS)


def test_documented_nesting_is_what_the_validator_accepts(served):
    """Groups MAX_DEPTH deep hold clauses only: one level more is refused by both."""
    from loyalty_social.rules import conditions

    schemas = served.json["components"]["schemas"]
    clause = {"field": "data.rating", "op": "ge", "value": 4}
    deepest = {"all": [{"any": [clause]}]}
    too_deep = {"all": [{"any": [{"not": clause}]}]}
    schema = {"$ref": "#/components/schemas/Condition", "components": {"schemas": schemas}}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(deepest)
    assert conditions.validate(deepest) == {}
    assert not validator.is_valid(too_deep)
    assert conditions.validate(too_deep) != {}
