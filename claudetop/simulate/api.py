"""The fake Anthropic API: routes, auth, faults and stats on top of :mod:`claudetop.simulate.server`.

Use it as a context manager; point the real SDK at ``base_url``::

    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")

Any non-empty ``x-api-key`` (or ``Authorization: Bearer``, which SDK 2.14 sends) is accepted
for the inference endpoints; the Admin API endpoints want an Admin key (``sk-ant-admin...``),
and inference endpoints refuse one.
``GET /_sim/stats`` returns :meth:`FakeAnthropic.stats` as JSON (debugging, polling storms).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any

from claudetop.simulate import admin, messages
from claudetop.simulate.batches import BatchStore
from claudetop.simulate.cache import PromptCache
from claudetop.simulate.catalog import model_entry, served_models
from claudetop.simulate.clock import SimClock
from claudetop.simulate.errors import ApiError, invalid
from claudetop.simulate.faults import FaultPlan, FaultRule
from claudetop.simulate.ledger import Ledger, ServedUsage
from claudetop.simulate.server import DROP, HttpServer, Request, Response, StreamResponse, _Drop

ADMIN_KEY_PREFIX = "sk-ant-admin"


@dataclass
class FakeConfig:
    seed: int = 0
    faults: list[FaultRule] = field(default_factory=list)
    batch_processing_s: tuple[float, float] = (60.0, 3600.0)
    """Range (simulated seconds) a batch request takes, uniformly drawn per request."""
    batch_cancel_delay_s: float = 30.0
    stream_chunk_delay_s: float = 0.0
    """Real seconds between SSE events (0: as fast as the socket takes them)."""
    cost_report_skew: Decimal = Decimal(1)
    """Multiplier on ``cost_report`` amounts; not 1 = a deliberate mismatch for reconciliation tests."""


@dataclass(frozen=True)
class FakeStats:
    requests: int
    by_route: dict[str, int]
    status_counts: dict[int, int]
    faults_fired: dict[str, int]
    batch_retrieve_calls: dict[str, int]
    cache_entries: int
    cache_reads: int
    cache_writes: int


def _json_response(
    status: int, data: Any, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(status, body, headers={"request-id": request_id, **(headers or {})})


class FakeAnthropic:
    """A loopback Anthropic API: real HTTP on 127.0.0.1, an ephemeral port, simulated time."""

    def __init__(self, clock: SimClock | None = None, config: FakeConfig | None = None) -> None:
        self.clock = clock or SimClock()
        self.config = config or FakeConfig()
        self.cache = PromptCache(self.clock)
        self.ledger = Ledger()
        self.faults = FaultPlan(self.config.faults, seed=self.config.seed)
        self.batches = BatchStore(
            self.clock,
            self._serve_batch_item,
            lambda: self.base_url,
            processing_s=self.config.batch_processing_s,
            cancel_delay_s=self.config.batch_cancel_delay_s,
            seed=self.config.seed,
        )
        self._price = admin.pricebook_price()
        self._server = HttpServer(self._handle)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self.base_url = ""

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        port = self._server.start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeAnthropic:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def stats(self) -> FakeStats:
        with self._lock:
            routes, statuses = dict(self._routes), dict(self._statuses)
        return FakeStats(
            requests=sum(routes.values()),
            by_route=routes,
            status_counts=statuses,
            faults_fired=dict(self.faults.fired),
            batch_retrieve_calls=self.batches.retrieve_calls(),
            cache_entries=len(self.cache),
            cache_reads=self.cache.stats.reads,
            cache_writes=self.cache.stats.writes,
        )

    # --- serving ---------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        n = next(self._ids)
        return f"{prefix}_{hashlib.sha256(f'{self.config.seed}:{n}'.encode()).hexdigest()[:24]}"

    def _serve(self, body: Any, *, tier: str, api_key_id: str, at: float | None = None) -> dict[str, Any]:
        req = messages.parse(body)
        message = messages.complete(req, self.cache, self._next_id("msg"), tier, at=at)
        u = message["usage"]
        self.ledger.record(
            ServedUsage(
                ts=self.clock.now() if at is None else at,
                model=req.model,
                service_tier=tier,
                api_key_id=api_key_id,
                input_tokens=u["input_tokens"],
                cache_write_5m=u["cache_creation"]["ephemeral_5m_input_tokens"],
                cache_write_1h=u["cache_creation"]["ephemeral_1h_input_tokens"],
                cache_read=u["cache_read_input_tokens"],
                output_tokens=u["output_tokens"],
                speed=req.speed,
            )
        )
        return message

    def _serve_batch_item(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        if isinstance(params, dict) and params.get("stream"):
            raise invalid("stream: streaming is not supported in batches")
        return self._serve(params, tier="batch", api_key_id="apikey_batch", at=at)

    def _handle(self, req: Request) -> Response | StreamResponse | _Drop:
        request_id = self._next_id("req")
        route = _route_name(req.method, req.path)
        try:
            if route == "sim_stats":
                result: Response | StreamResponse | _Drop = _json_response(
                    200, self.stats.__dict__, request_id
                )
            else:
                result = self._faulted(req, request_id) or self._dispatch(req, route, request_id)
        except ApiError as exc:
            result = _json_response(exc.status, exc.body(request_id), request_id, exc.headers)
        with self._lock:
            self._routes[route] += 1
            if not isinstance(result, _Drop):
                self._statuses[result.status] += 1
        return result

    def _faulted(self, req: Request, request_id: str) -> Response | _Drop | None:
        rule = self.faults.pick(req.method, req.path)
        if rule is None:
            return None
        if rule.kind == "drop":
            return DROP
        if rule.kind == "slow":
            resp = self._dispatch(req, _route_name(req.method, req.path), request_id)
            if isinstance(resp, Response | StreamResponse):
                resp.delay_s = rule.delay_s
            return resp if isinstance(resp, Response) else None
        kinds = {
            "rate_limit": "rate_limit_error",
            "overloaded": "overloaded_error",
            "server_error": "api_error",
        }
        messages_by_kind = {
            "rate_limit": "Number of request tokens has exceeded your per-minute rate limit",
            "overloaded": "Overloaded",
            "server_error": "Internal server error",
        }
        headers = {"retry-after": f"{rule.retry_after_s:g}"} if rule.kind == "rate_limit" else {}
        exc = ApiError(kinds[rule.kind], messages_by_kind[rule.kind], headers=headers)
        return _json_response(exc.status, exc.body(request_id), request_id, headers)

    def _auth(self, req: Request, *, admin: bool) -> str:
        key = req.headers.get("x-api-key", "")
        bearer = req.headers.get("authorization", "")
        if not key and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        if not key:
            raise ApiError("authentication_error", "x-api-key (or Authorization: Bearer) header is required")
        if admin != key.startswith(ADMIN_KEY_PREFIX):
            need = "an Admin API key (sk-ant-admin...)" if admin else "a standard API key, not an Admin key"
            raise ApiError("authentication_error", f"invalid x-api-key: this endpoint needs {need}")
        return "apikey_" + hashlib.sha256(key.encode()).hexdigest()[:12]

    def _body(self, req: Request) -> Any:
        try:
            return json.loads(req.body or b"null")
        except ValueError:
            raise invalid("request body is not valid JSON") from None

    def _dispatch(self, req: Request, route: str, rid: str) -> Response | StreamResponse:
        if route.startswith("admin_"):
            return self._admin(req, route, rid)
        key_id = self._auth(req, admin=False)
        parts = req.path.rstrip("/").split("/")
        if route == "messages":
            body = self._body(req)
            message = self._serve(body, tier="standard", api_key_id=key_id)
            if isinstance(body, dict) and body.get("stream"):
                return StreamResponse(
                    200,
                    messages.sse_events(message),
                    headers={"request-id": rid, "cache-control": "no-cache"},
                    chunk_delay_s=self.config.stream_chunk_delay_s,
                )
            return _json_response(200, message, rid)
        if route == "count_tokens":
            return _json_response(200, messages.count_tokens(self._body(req)), rid)
        if route == "models_list":
            data = [_model_json(m.id) for m in served_models()]
            return _json_response(
                200,
                {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]},
                rid,
            )
        if route == "models_get":
            if model_entry(parts[3]) is None:
                raise ApiError("not_found_error", f"model: {parts[3]}")
            return _json_response(200, _model_json(parts[3]), rid)
        if route == "batches_create":
            return _json_response(200, self.batches.create(self._body(req)), rid)
        if route == "batches_list":
            q = {k: v[-1] for k, v in req.query.items()}
            limit = int(q.get("limit", "20")) if q.get("limit", "20").isdigit() else 20
            return _json_response(200, self.batches.list(limit, q.get("after_id"), q.get("before_id")), rid)
        if route == "batches_retrieve":
            return _json_response(200, self.batches.retrieve(parts[4]), rid)
        if route == "batches_cancel":
            return _json_response(200, self.batches.cancel(parts[4]), rid)
        if route == "batches_results":
            body = self.batches.results(parts[4])
            return Response(200, body, content_type="application/binary", headers={"request-id": rid})
        if route == "batches_delete":
            return _json_response(200, self.batches.delete(parts[4]), rid)
        raise ApiError("not_found_error", f"Not found: {req.method} {req.path}")

    def _admin(self, req: Request, route: str, rid: str) -> Response:
        self._auth(req, admin=True)
        self.batches.advance_all()
        q = req.query
        if route == "admin_usage":
            return _json_response(200, admin.usage_report(self.ledger.rows(), q), rid)
        report = admin.cost_report(self.ledger.rows(), q, self.config.cost_report_skew, self._price)
        return _json_response(200, report, rid)


def _model_json(model_id: str) -> dict[str, Any]:
    entry = model_entry(model_id)
    assert entry is not None
    return {
        "id": entry.id,
        "type": "model",
        "display_name": entry.display_name,
        "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
    }


def _route_name(method: str, path: str) -> str:
    parts = path.rstrip("/").split("/")
    n = len(parts)
    if path.startswith("/v1/messages/batches"):
        if n == 4:
            return {"POST": "batches_create", "GET": "batches_list"}.get(method, "unknown")
        if n == 5:
            return {"GET": "batches_retrieve", "DELETE": "batches_delete"}.get(method, "unknown")
        if n == 6 and parts[5] == "cancel" and method == "POST":
            return "batches_cancel"
        if n == 6 and parts[5] == "results" and method == "GET":
            return "batches_results"
        return "unknown"
    fixed = {
        ("POST", "/v1/messages"): "messages",
        ("POST", "/v1/messages/count_tokens"): "count_tokens",
        ("GET", "/v1/models"): "models_list",
        ("GET", "/v1/organizations/usage_report/messages"): "admin_usage",
        ("GET", "/v1/organizations/cost_report"): "admin_cost",
        ("GET", "/_sim/stats"): "sim_stats",
    }
    if (method, path.rstrip("/")) in fixed:
        return fixed[(method, path.rstrip("/"))]
    if method == "GET" and n == 4 and parts[2] == "models":
        return "models_get"
    return "unknown"
