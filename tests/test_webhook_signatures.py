"""Standard Webhooks strictness and asymmetric (v1a, ed25519) signatures."""

import base64
import json
import subprocess
import sys
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from loyalty_social.extensions import db
from loyalty_social.intake.models import SourcePublicKey
from loyalty_social.intake.signature import (
    SignatureError,
    generate_keypair,
    sign_asymmetric,
    verify,
)
from loyalty_social.intake.sources import SourceError, add_source

from .conftest import ROOT, run_cli
from .helpers import envelope, seed, signed

PROBLEM = "https://loyalty-social.dev/problems/"
# The known-answer vector the reference libraries test with.
KAT_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KAT_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
KAT_TIMESTAMP = 1614265330
KAT_BODY = b'{"test": 2432232314}'
KAT_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def kat_headers(**changes) -> dict:
    headers = {
        "webhook-id": KAT_ID,
        "webhook-timestamp": str(KAT_TIMESTAMP),
        "webhook-signature": KAT_SIGNATURE,
    }
    return headers | changes


def test_known_answer_vector_verifies_with_the_clock_at_its_time():
    assert verify([KAT_SECRET], kat_headers(), KAT_BODY, 300, now=KAT_TIMESTAMP) == KAT_ID
    with pytest.raises(SignatureError, match="too old"):  # the same, today
        verify([KAT_SECRET], kat_headers(), KAT_BODY, 300)
    with pytest.raises(SignatureError, match="no signature matches"):
        verify([KAT_SECRET], kat_headers(), KAT_BODY + b" ", 300, now=KAT_TIMESTAMP)


@pytest.mark.parametrize("timestamp", ["1614265330.0", "123abc", " 1614265330", "1_614_265_330"])
def test_webhook_timestamp_must_be_an_integer(timestamp):
    with pytest.raises(SignatureError, match="not an integer"):
        verify(
            [KAT_SECRET],
            kat_headers(**{"webhook-timestamp": timestamp}),
            KAT_BODY,
            300,
            now=KAT_TIMESTAMP,
        )


@pytest.mark.parametrize("timestamp", ["{now}.0", "{now}abc"])
def test_non_integer_timestamp_is_401_at_the_endpoint(client, app, timestamp):
    seeded = seed(app)
    raw, headers = signed(seeded["secret"], envelope())
    headers["webhook-timestamp"] = timestamp.format(now=headers["webhook-timestamp"])
    response = client.post("/webhooks/backend", data=raw, headers=headers)
    assert response.status_code == 401
    assert response.json["type"] == PROBLEM + "invalid-signature"
    assert "integer" in response.json["detail"]


def ed25519_signed(private_key: str, body: dict, webhook_id: str | None = None):
    raw = json.dumps(body).encode()
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    return raw, {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_asymmetric(private_key, webhook_id, timestamp, raw),
    }


def test_source_with_a_public_key_accepts_ed25519_and_refuses_tampering(client, app):
    private, public = generate_keypair()
    with app.app_context():
        assert add_source("signer", public_key=public, with_secret=False) is None
    raw, headers = ed25519_signed(private, envelope(member_id="M-A"))
    accepted = client.post("/webhooks/signer", data=raw, headers=headers)
    assert accepted.status_code == 202, accepted.json

    raw, headers = ed25519_signed(private, envelope(member_id="M-A"))
    tampered = client.post("/webhooks/signer", data=raw.replace(b"M-A", b"M-B"), headers=headers)
    assert tampered.status_code == 401
    assert tampered.json["type"] == PROBLEM + "invalid-signature"

    other_private, _ = generate_keypair()  # a well-formed key the source does not know
    raw, headers = ed25519_signed(other_private, envelope())
    assert client.post("/webhooks/signer", data=raw, headers=headers).status_code == 401
    # The source has no secret: a v1 signature made with any secret does not verify.
    raw, headers = signed(KAT_SECRET, envelope())
    assert client.post("/webhooks/signer", data=raw, headers=headers).status_code == 401


def test_mixed_signature_lists_and_a_source_with_both(client, app):
    private, public = generate_keypair()
    with app.app_context():
        secret = add_source("both", public_key=public)
    assert secret.startswith("whsec_")
    raw, headers = ed25519_signed(private, envelope())
    headers["webhook-signature"] = "v1,bm90LWl0 v1a,bm90 v1a,!!! " + headers["webhook-signature"]
    assert client.post("/webhooks/both", data=raw, headers=headers).status_code == 202
    raw, headers = signed(secret, envelope())
    headers["webhook-signature"] += " v1a," + base64.b64encode(b"x" * 64).decode()
    assert client.post("/webhooks/both", data=raw, headers=headers).status_code == 202


def test_a_libsodium_style_64_byte_private_key_signs_too(client, app):
    key = Ed25519PrivateKey.generate()
    public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sodium = "whsk_" + base64.b64encode(key.private_bytes_raw() + public_raw).decode()
    with app.app_context():
        add_source("sodium", public_key="whpk_" + base64.b64encode(public_raw).decode())
    raw, headers = ed25519_signed(sodium, envelope())
    assert client.post("/webhooks/sodium", data=raw, headers=headers).status_code == 202


@pytest.mark.parametrize("bad", ["whpk_notbase64!", "whpk_" + "A" * 8, "whsec_abcd", "pk"])
def test_malformed_public_keys_are_refused_when_configured(app, bad):
    with app.app_context(), pytest.raises(SourceError):
        add_source("bad", public_key=bad)


def test_operator_generates_configures_and_rotates_keys_from_the_cli(sqlite_config, make_app):
    app = make_app(sqlite_config)
    keys = run_cli(sqlite_config, "source", "keygen")
    assert keys.returncode == 0, keys.stderr
    private = keys.stdout.split("private key (sender only):")[1].split()[0]
    public = keys.stdout.split("public key:")[1].split()[0]
    assert private.startswith("whsk_") and public.startswith("whpk_")
    added = run_cli(sqlite_config, "source", "add", "partner", "--public-key", public)
    assert added.returncode == 0, added.stderr
    assert "whsec_" not in added.stdout  # no secret unless asked for
    listed = run_cli(sqlite_config, "source", "list").stdout
    assert "live_secrets=0" in listed and "live_public_keys=1" in listed

    new_private, new_public = generate_keypair()
    rotated = run_cli(sqlite_config, "source", "rotate", "partner", "--public-key", new_public)
    assert rotated.returncode == 0, rotated.stderr
    client = app.test_client()
    for key in (private, new_private):  # both verify during the grace period
        raw, headers = ed25519_signed(key, envelope())
        assert client.post("/webhooks/partner", data=raw, headers=headers).status_code == 202
    with app.app_context():
        stored = set(db.session.scalars(select(SourcePublicKey.public_key)))
    assert stored == {public, new_public}  # public keys are kept as given
    refused = run_cli(sqlite_config, "source", "rotate", "partner", "--public-key", "whpk_x")
    assert refused.returncode != 0 and "public key" in refused.stderr


def test_cli_and_send_py_sign_with_a_private_key(sqlite_config, make_app, serve):
    app = make_app(sqlite_config)
    private, public = generate_keypair()
    with app.app_context():
        add_source("partner", public_key=public, with_secret=False)
    server = serve(sqlite_config)
    example = ROOT / "webhooks" / "examples" / "social.shared.json"
    sent = run_cli(
        sqlite_config,
        "webhook",
        "send",
        "--source",
        "partner",
        "--example",
        str(example),
        "--url",
        server.url,
        "--private-key",
        private,
    )
    assert sent.returncode == 0 and sent.stdout.startswith("202 "), sent.stdout + sent.stderr
    body_file = example
    script = subprocess.run(
        [
            sys.executable,
            str(ROOT / "webhooks" / "send.py"),
            "--url",
            f"{server.url}/webhooks/partner",
            "--private-key",
            private,
            str(body_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 0 and script.stdout.startswith("202 "), (
        script.stdout + script.stderr
    )
    wrong, _ = generate_keypair()
    script = subprocess.run(
        [
            sys.executable,
            str(ROOT / "webhooks" / "send.py"),
            "--url",
            f"{server.url}/webhooks/partner",
            "--private-key",
            wrong,
            str(body_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 1 and script.stdout.startswith("401 "), script.stdout
