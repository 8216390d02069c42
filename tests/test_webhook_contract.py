"""webhooks/ is the integrators' contract: it must match the code and its examples must work."""

import json
from pathlib import Path

import jsonschema
import pytest
from standardwebhooks import Webhook

from loyalty_social.intake.catalogue import CATALOGUE
from loyalty_social.intake.contract import CONTRACT_DIR, drifted_files, write_contract

from .conftest import ROOT, run_cli
from .helpers import drain, seed, signed

EXAMPLES = sorted((CONTRACT_DIR / "examples").glob("*.json"))


def test_checked_in_schemas_and_examples_match_the_code():
    assert drifted_files() == [], "run `loyalty-social webhook catalogue` and commit webhooks/"


def test_drift_is_detected(tmp_path):
    write_contract(tmp_path)
    assert drifted_files(tmp_path) == []
    schema_file = tmp_path / "schemas" / "social.shared.v1.json"
    schema_file.write_text(schema_file.read_text().replace('"network"', '"netwerk"'))
    assert drifted_files(tmp_path) == ["schemas/social.shared.v1.json"]


def test_every_catalogued_type_has_a_schema_and_an_example():
    names = {f"{t.name}.json" for t in CATALOGUE.values() if not t.internal_only}
    assert {p.name for p in EXAMPLES} == names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_validate_against_their_schema_and_verify_with_standardwebhooks(example):
    document = json.loads(example.read_text())
    body = json.loads(document["body"])
    schema = json.loads((CONTRACT_DIR / "schemas" / f"{example.stem}.v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(body)
    headers = document["headers"]
    webhook = Webhook(document["secret"])
    # the library checks the timestamp against now; the examples carry a fixed one
    expected = webhook.sign(headers["webhook-id"], _ts(headers), document["body"])
    assert expected == headers["webhook-signature"]


def _ts(headers):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)


def test_schema_rejects_what_the_service_rejects():
    schema = json.loads((CONTRACT_DIR / "schemas" / "review.published.v1.json").read_text())
    body = json.loads(
        json.loads((CONTRACT_DIR / "examples/review.published.json").read_text())["body"]
    )
    body["data"]["rating"] = 9
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(body)


def test_every_example_is_accepted_by_the_service(client, app):
    seeded = seed(app)
    for example in EXAMPLES:
        body = json.loads(example.read_text())["body"].encode()
        raw, headers = signed(seeded["secret"], body)
        response = client.post("/webhooks/backend", data=raw, headers=headers)
        assert response.status_code == 202, (example.name, response.json)
    drain(app)
    events = client.get("/api/v1/events?status=processed&limit=50", headers=seeded["auth"]).json
    assert len(events["items"]) == len(EXAMPLES)


def test_cli_sender_signs_and_posts_to_a_served_app(sqlite_config, make_app, serve):
    app = make_app(sqlite_config)
    seed(app)
    server = serve(sqlite_config)
    example = CONTRACT_DIR / "examples" / "social.shared.json"
    sent = run_cli(
        sqlite_config,
        "webhook",
        "send",
        "--source",
        "backend",
        "--example",
        str(example),
        "--url",
        server.url,
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("202 ")
    data = Path(ROOT / "webhooks" / "examples" / "review.published.json")
    payload = json.loads(json.loads(data.read_text())["body"])["data"]
    data_file = (
        Path(sqlite_config["DATABASE_URL"].removeprefix("sqlite:///")).parent / "payload.json"
    )
    data_file.write_text(json.dumps(payload))
    sent = run_cli(
        sqlite_config,
        "webhook",
        "send",
        "--source",
        "backend",
        "--type",
        "review.published",
        "--file",
        str(data_file),
        "--member-id",
        "M-77",
        "--url",
        server.url,
    )
    assert sent.returncode == 0 and sent.stdout.startswith("202 "), sent.stdout + sent.stderr
