"""A stand-in for the loyalty backend: a real HTTP server (werkzeug, in a thread) that applies
each Idempotency-Key once, counts what it applied, and can be told to fail.

It also receives outbound events (``POST /events``), so signatures can be checked.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import Counter

from standardwebhooks import Webhook
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ..services import free_port


class StandIn:
    """Failure knobs, each a fraction of calls (decided per call, seeded):

    ``fail_rate``: answer 500, or hang past the caller's timeout, *without* applying.
    ``drop_rate``: apply, then lose the answer (drop the connection, or hang past the timeout).
    ``reject``: member ids answered 422 (a permanent refusal) with a message.
    """

    def __init__(self, port: int | None = None, *, token=None, hmac_secret=None, seed=7):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token, self.hmac_secret = token, hmac_secret
        self.fail_rate = self.drop_rate = 0.0
        self.hang_seconds = 1.5
        self.reject: set[str] = set()
        self.answer: tuple[int, dict] | None = None  # answer every call with this, applying nothing
        self.latency = 0.0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.calls: Counter = Counter()  # key -> requests received
        self.applied: Counter = Counter()  # key -> times applied (must end at exactly 1)
        self.order: list[str] = []  # keys in the order they were applied
        self.points: Counter = Counter()  # member -> balance on the backend
        self.bodies: dict[str, dict] = {}
        self.paths: dict[str, str] = {}
        self.events: list[tuple[bytes, dict]] = []
        self.auth_failures = 0
        self._server = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> StandIn:
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the backend -----------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        body = request.get_data()
        if request.path == "/events":
            with self._lock:
                self.events.append((body, dict(request.headers)))
            return Response(status=204)
        if not self._authorised(request, body):
            with self._lock:
                self.auth_failures += 1
            return _json(401, {"detail": "bad credentials"})
        key = request.headers.get("Idempotency-Key")
        if not key:
            return _json(400, {"detail": "Idempotency-Key is required"})
        document = json.loads(body)
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.calls[key] += 1
            roll = self._random.random()
        if self.answer is not None:
            return _json(*self.answer)
        if roll < self.fail_rate:
            if roll < self.fail_rate / 2:
                return _json(500, {"detail": "backend fell over"})
            time.sleep(self.hang_seconds)
            return _json(503, {"detail": "too late"})
        if document.get("member_id") in self.reject:
            return _json(422, {"detail": f"member {document['member_id']} is closed"})
        with self._lock:
            if self.applied[key] == 0:  # idempotent: a repeated key is answered, not re-applied
                self.applied[key] += 1
                self.order.append(key)
                self.bodies[key] = document
                self.paths[key] = request.path
                sign = -1 if "debit" in request.path else 1
                self.points[document["member_id"]] += sign * int(document.get("points", 0))
        if roll < self.fail_rate + self.drop_rate:
            if roll < self.fail_rate + self.drop_rate / 2:
                request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
                return Response(status=200)  # goes nowhere: the caller saw the line drop
            time.sleep(self.hang_seconds)
        return _json(200, {"applied": key})

    def _authorised(self, request: Request, body: bytes) -> bool:
        if self.token:
            return request.headers.get("Authorization") == f"Bearer {self.token}"
        if self.hmac_secret:
            try:
                Webhook(self.hmac_secret).verify(body, dict(request.headers))
            except Exception:
                return False
        return True

    # --- what the tests read -----------------------------------------------------------

    def applied_keys(self) -> set[str]:
        with self._lock:
            return set(self.applied)

    def position(self, key: str) -> int:
        return self.order.index(key)


def _json(status: int, document: dict) -> Response:
    return Response(json.dumps(document), status=status, mimetype="application/json")
