#!/usr/bin/env python3
"""Sign and send one Loyalty Social webhook with the reference `standardwebhooks` library.

For integrators trying the contract from their side (no Loyalty Social code needed):

    pip install standardwebhooks requests cryptography
    python webhooks/send.py --url http://127.0.0.1:5000/webhooks/<source> \
        --secret whsec_... webhooks/examples/social.shared.json

With an ed25519 private key instead of a shared secret (Standard Webhooks `v1a`; the reference
libraries do not sign those yet, so `cryptography` does): `--private-key whsk_...`. The
source must know the matching public key (`loyalty-social source add NAME --public-key whpk_...`).

The file is either an example from webhooks/examples/ (its "body" is sent) or a webhook body.
A fresh webhook-id and timestamp are used for every send; pass --webhook-id to retry one.
"""

import argparse
import base64
import json
import os
import sys
import uuid
from datetime import UTC, datetime

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from standardwebhooks import Webhook


def sign_v1a(private_key: str, webhook_id: str, timestamp: int, body: str) -> str:
    """``v1a,<base64 ed25519 signature>`` of ``{id}.{timestamp}.{body}``; the key is ``whsk_``
    and the base64 of the 32-byte seed (a 64-byte seed + public key also works)."""
    seed = base64.b64decode(private_key.removeprefix("whsk_"), validate=True)[:32]
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(
        f"{webhook_id}.{timestamp}.{body}".encode()
    )
    return "v1a," + base64.b64encode(signature).decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="example file or JSON body")
    parser.add_argument("--url", required=True, help="https://host/webhooks/<source>")
    parser.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"), help="whsec_...")
    parser.add_argument(
        "--private-key",
        default=os.environ.get("WEBHOOK_PRIVATE_KEY"),
        help="whsk_... (ed25519, v1a) instead of --secret",
    )
    parser.add_argument("--webhook-id", default=None, help="reuse an id to retry a delivery")
    args = parser.parse_args()
    if not args.secret and not args.private_key:
        parser.error("--secret (or WEBHOOK_SECRET) or --private-key is required")
    with open(args.file) as handle:
        document = json.load(handle)
    body = (
        document["body"] if "body" in document and "headers" in document else json.dumps(document)
    )
    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    signatures = []
    if args.secret:
        signatures.append(Webhook(args.secret).sign(webhook_id, now, body))
    if args.private_key:
        signatures.append(sign_v1a(args.private_key, webhook_id, timestamp, body))
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
    response = requests.post(args.url, data=body.encode(), headers=headers, timeout=10)
    print(response.status_code, response.text.strip())
    return 0 if response.status_code < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
