"""The loyalty backend behind one interface: credit, debit, grant an offer, redeem an offer.

Adapters are chosen by name from ``ADAPTERS`` (BACKEND_ADAPTER), so another backend is one
class and one registry entry. Each call returns an ``Outcome`` the outbox acts on:
delivered, retry (the backend may not have it yet) or failed (it said no; retrying won't help).
Every call carries an idempotency key, so a retry after an ambiguous answer applies nothing twice.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote

import requests
from flask import current_app

from ..targets import TargetRefused, guarded_session
from ..webhook_signing import sign

DELIVERED, RETRY, FAILED = "delivered", "retry", "failed"
# Statuses the backend uses to say "no, and asking again will not change it".
PERMANENT_STATUSES = frozenset({409, 422})
# Operation names, as stored in the outbox's ``kind``.
CREDIT, DEBIT, OFFER_GRANT, OFFER_REDEEM = "award", "reversal", "offer_grant", "offer_redeem"


@dataclass(frozen=True)
class Outcome:
    result: str  # delivered | retry | failed
    status_code: int | None = None
    error: str | None = None


class BackendAdapter:
    """The interface. ``payload`` is the JSON body the outbox stored for the operation."""

    name: ClassVar[str]
    # True when nothing leaves the process: the outbox can record the row as delivered at once.
    local: ClassVar[bool] = False

    def credit(self, idempotency_key: str, payload: dict) -> Outcome:
        """Add points for an award (``payload``: award_id, member_id, points, ...)."""
        raise NotImplementedError

    def debit(self, idempotency_key: str, payload: dict) -> Outcome:
        """Take back the points of a reversed award."""
        raise NotImplementedError

    def grant_offer(self, idempotency_key: str, payload: dict) -> Outcome:
        """Give the member an offer (``payload``: grant_id, member_id, offer_id, ...)."""
        raise NotImplementedError

    def redeem_offer(self, idempotency_key: str, payload: dict) -> Outcome:
        """Mark a granted offer redeemed."""
        raise NotImplementedError

    def call(self, kind: str, idempotency_key: str, payload: dict) -> Outcome:
        """Dispatch an outbox row by its kind."""
        operation = {
            CREDIT: self.credit,
            DEBIT: self.debit,
            OFFER_GRANT: self.grant_offer,
            OFFER_REDEEM: self.redeem_offer,
        }[kind]
        return operation(idempotency_key, payload)


class LedgerAdapter(BackendAdapter):
    """The embedded default: our own ledger is the system of record, so nothing leaves."""

    name = "ledger"
    local = True

    def credit(self, idempotency_key, payload):
        return Outcome(DELIVERED)

    def debit(self, idempotency_key, payload):
        return Outcome(DELIVERED)

    def grant_offer(self, idempotency_key, payload):
        return Outcome(DELIVERED)

    def redeem_offer(self, idempotency_key, payload):
        return Outcome(DELIVERED)


class HttpPoster:
    """JSON POSTs with per-thread connection pools and the status -> outcome mapping.

    2xx: delivered. 409/422: failed, with the other side's message. Anything else (429, 5xx,
    other 4xx such as a bad token an operator can fix, timeouts, refused connections): retry.
    """

    def __init__(self, connect_timeout: float, read_timeout: float, allow_private: bool = False):
        self.timeout = (connect_timeout, read_timeout)
        self.allow_private = allow_private
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = guarded_session(self.allow_private)
            self._local.session = session
        return session

    def post(self, url: str, body: bytes, headers: dict) -> Outcome:
        try:
            response = self._session().post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except TargetRefused as refused:  # a private address: never called, not retried
            return Outcome(FAILED, None, str(refused))
        except requests.Timeout:
            return Outcome(RETRY, None, "timed out")
        except requests.RequestException as error:
            return Outcome(RETRY, None, f"{type(error).__name__}: {error}"[:500])
        if 200 <= response.status_code < 300:
            return Outcome(DELIVERED, response.status_code)
        result = FAILED if response.status_code in PERMANENT_STATUSES else RETRY
        return Outcome(result, response.status_code, _message(response))


# What a failed call keeps of the other side's answer (stored with the attempt), characters.
MAX_RESPONSE_CHARS = 300


def _message(response: requests.Response) -> str:
    """The other side's own explanation: problem+json ``detail``/``title``, or the start of
    the text; at most MAX_RESPONSE_CHARS of it are kept."""
    try:
        document = response.json()
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in ("detail", "message", "error", "title"):
            if isinstance(document.get(key), str):
                return f"{response.status_code}: {document[key][:MAX_RESPONSE_CHARS]}"
    text = response.text.strip()[:MAX_RESPONSE_CHARS]
    return f"{response.status_code}: {text or response.reason}"


class HttpAdapter(BackendAdapter):
    """The backend's HTTP API; auth is a bearer token or Standard Webhooks HMAC signatures."""

    name = "http"

    def __init__(self, config: dict):
        if not config["BACKEND_URL"]:
            raise ValueError("BACKEND_ADAPTER=http needs BACKEND_URL")
        self.base_url = config["BACKEND_URL"].rstrip("/")
        self.paths = {
            CREDIT: config["BACKEND_CREDIT_PATH"],
            DEBIT: config["BACKEND_DEBIT_PATH"],
            OFFER_GRANT: config["BACKEND_OFFER_GRANT_PATH"],
            OFFER_REDEEM: config["BACKEND_OFFER_REDEEM_PATH"],
        }
        self.token = config.get("BACKEND_TOKEN", "")
        self.hmac_secret = config.get("BACKEND_HMAC_SECRET", "")
        self.poster = HttpPoster(
            config["BACKEND_CONNECT_TIMEOUT_SECONDS"],
            config["BACKEND_READ_TIMEOUT_SECONDS"],
            config.get("ALLOW_PRIVATE_TARGETS", False),
        )

    def credit(self, idempotency_key, payload):
        return self._send(CREDIT, idempotency_key, payload)

    def debit(self, idempotency_key, payload):
        return self._send(DEBIT, idempotency_key, payload)

    def grant_offer(self, idempotency_key, payload):
        return self._send(OFFER_GRANT, idempotency_key, payload)

    def redeem_offer(self, idempotency_key, payload):
        return self._send(OFFER_REDEEM, idempotency_key, payload)

    def url_for(self, kind: str, payload: dict) -> str:
        path = self.paths[kind].replace("{member_id}", quote(str(payload["member_id"]), safe=""))
        return self.base_url + path

    def _send(self, kind: str, idempotency_key: str, payload: dict) -> Outcome:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Idempotency-Key": idempotency_key}
        if self.hmac_secret:
            # webhook-id = the idempotency key: Standard Webhooks keeps the id across retries.
            headers.update(signature_headers(self.hmac_secret, idempotency_key, body))
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.poster.post(self.url_for(kind, payload), body, headers)


def signature_headers(secret: str, message_id: str, body: bytes) -> dict:
    """Standard Webhooks headers for one signed request or event."""
    timestamp = int(time.time())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


ADAPTERS: dict[str, type[BackendAdapter]] = {"ledger": LedgerAdapter, "http": HttpAdapter}


def build_adapter(config: dict) -> BackendAdapter:
    """The configured adapter (raises ValueError naming the problem)."""
    kind = ADAPTERS.get(config["BACKEND_ADAPTER"])
    if kind is None:
        raise ValueError(
            f"BACKEND_ADAPTER must be one of {', '.join(ADAPTERS)}, "
            f"got {config['BACKEND_ADAPTER']!r}"
        )
    return kind(config) if kind is HttpAdapter else kind()


def adapter() -> BackendAdapter:
    """This app's backend adapter, built once from the settings."""
    found = current_app.extensions.get("loyalty_social.delivery.adapter")
    if found is None:
        found = build_adapter(current_app.config)
        current_app.extensions["loyalty_social.delivery.adapter"] = found
    return found
