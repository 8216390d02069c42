#!/usr/bin/env python3
"""Sign and send one Loyalty Social webhook with the reference `standardwebhooks` library.

For integrators trying the contract from their side (no Loyalty Social code needed):

    pip install standardwebhooks requests
    python webhooks/send.py --url http://127.0.0.1:5000/webhooks/<source> \
        --secret whsec_... webhooks/examples/social.shared.json

The file is either an example from webhooks/examples/ (its "body" is sent) or a webhook body.
A fresh webhook-id and timestamp are used for every send; pass --webhook-id to retry one.
"""

import argparse
import json
import os
import sys
import uuid
from datetime import UTC, datetime

import requests
from standardwebhooks import Webhook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="example file or JSON body")
    parser.add_argument("--url", required=True, help="https://host/webhooks/<source>")
    parser.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"), help="whsec_...")
    parser.add_argument("--webhook-id", default=None, help="reuse an id to retry a delivery")
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or WEBHOOK_SECRET) is required")
    with open(args.file) as handle:
        document = json.load(handle)
    body = (
        document["body"] if "body" in document and "headers" in document else json.dumps(document)
    )
    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(args.secret).sign(webhook_id, now, body),
    }
    response = requests.post(args.url, data=body.encode(), headers=headers, timeout=10)
    print(response.status_code, response.text.strip())
    return 0 if response.status_code < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
