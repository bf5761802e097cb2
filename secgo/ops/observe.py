"""What an operator sees: a request id on every answer, one JSON log line per request,
Prometheus metrics behind a token, and a readiness check.

Metrics in several gunicorn workers: prometheus_client's multiprocess mode (each worker writes
its counts to files in PROMETHEUS_MULTIPROC_DIR, set up by secgo.gunicorn_conf before the
workers start; any worker answers a scrape with the sum). Several instances are several
scrape targets, summed by Prometheus. What the database knows (outbox depth and age, push
deliveries) is read from the database at scrape time, so every instance reports the same.
"""
import hmac
import json
import logging
import os
import re
import sys
import time
from time import thread_time  # (by name, as in pagecache: tests put a clock of their own in place of time there)
import uuid
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, inspect, select, text

from ..extensions import db

bp = Blueprint("ops", __name__)

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUESTS = Counter("secgo_http_requests", "Requests answered, by route, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("secgo_http_request_duration_seconds", "Time to answer, by route and method.",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
REQUEST_LOG = logging.getLogger("secgo.requests")
# The CPU time this thread had used when the request came in (time.thread_time: the request's
# own, whatever other threads of the worker do), set by the outermost middleware
# (secgo.pagecache.PageFront) so that a request's logged cpu_ms counts the page cache's look-up too.
CPU_STARTED = "secgo.cpu_started"


def request_id() -> str:
    """This request's id: the proxy's X-Request-ID when it is a plain token, else a new one."""
    if "request_id" not in g:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _route() -> str:
    """The route's rule (/orders/<reference>), never the path: paths carry secrets
    (tracking-link and invite tokens) and unbounded values."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is a request."""

    def format(self, record):
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        rid = getattr(record, "request_id", None)
        if rid:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Adds the request id to every record logged while a request is handled."""

    def filter(self, record):
        from flask import has_request_context

        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
        return True


_HANDLER = logging.StreamHandler(sys.stderr)
_HANDLER.setFormatter(JsonFormatter())
_HANDLER.addFilter(RequestIdFilter())


def _use_json_logs(app) -> None:
    for logger in (REQUEST_LOG, app.logger):
        if _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)
        logger.setLevel(logging.INFO)
    REQUEST_LOG.propagate = False
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


def _start():
    g.ops_started = time.perf_counter()
    g.ops_cpu_started = request.environ.get(CPU_STARTED) or thread_time()
    request_id()


def _finish(response):
    seconds = time.perf_counter() - g.get("ops_started", time.perf_counter())
    route, method = _route(), request.method
    REQUESTS.labels(route, method, str(response.status_code)).inc()
    LATENCY.labels(route, method).observe(seconds)
    response.headers[REQUEST_ID_HEADER] = request_id()
    if current_app.config["REQUEST_LOG"]:
        REQUEST_LOG.info("request", extra={"fields": {
            "method": method, "route": route, "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1), "bytes": response.calculate_content_length(),
            "cpu_ms": _cpu_ms(g.get("ops_cpu_started")),
            "user_id": _user_id(), "remote_addr": request.remote_addr,
        }})
    return response


def kept_answer_seen(app, environ, status: str, seconds: float, size: int) -> str:
    """Count and log a page the page cache answered before Flask ran; return its request id."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    rid = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    route, code = environ.get("secgo.route", "<unmatched>"), status.split(" ", 1)[0]
    REQUESTS.labels(route, "GET", code).inc()
    LATENCY.labels(route, "GET").observe(seconds)
    if app.config["REQUEST_LOG"]:
        REQUEST_LOG.info("request", extra={"request_id": rid, "fields": {
            "method": "GET", "route": route, "status": int(code), "duration_ms": round(seconds * 1000, 1),
            "bytes": size, "page_cache": True,
            "cpu_ms": _cpu_ms(environ.get(CPU_STARTED)),
            "remote_addr": environ.get("REMOTE_ADDR")}})
    return rid


def _cpu_ms(started: float | None) -> float:
    """This thread's CPU milliseconds since `started` (a thread_time(); None: none counted)."""
    return 0.0 if started is None else round((thread_time() - started) * 1000, 2)


def _user_id():
    """The signed-in user's id without a query (after a commit the object is expired)."""
    user = g.get("_login_user")
    # Only a signed-in user is a row (the anonymous user is not); is_authenticated would read
    # is_active, which reloads the expired row.
    if user is None or not hasattr(user, "_sa_instance_state"):
        return None
    identity = inspect(user).identity
    return identity[0] if identity else None


class DatabaseCollector:
    """Figures the database holds, read at scrape time: the same on every instance."""

    def collect(self):
        from ..models import Notification, PushDelivery

        now = datetime.now(timezone.utc)
        pending = db.session.execute(
            select(func.count(), func.min(Notification.created_at))
            .where(Notification.state == "pending")).one()
        depth = GaugeMetricFamily("secgo_outbox_pending", "Notifications waiting to be sent.")
        depth.add_metric([], pending[0])
        yield depth
        age = GaugeMetricFamily("secgo_outbox_oldest_pending_age_seconds",
                                "Age of the oldest notification waiting to be sent (0: none).")
        oldest = pending[1]
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield age
        states = GaugeMetricFamily("secgo_notifications", "Notifications in the outbox, by state.",
                                   labels=["state"])
        for state, count in db.session.execute(
                select(Notification.state, func.count()).group_by(Notification.state)):
            states.add_metric([state], count)
        yield states
        deliveries = CounterMetricFamily("secgo_push_deliveries", "Push deliveries to devices, by outcome.",
                                         labels=["state"])
        for state, count in db.session.execute(
                select(PushDelivery.state, func.count()).group_by(PushDelivery.state)):
            deliveries.add_metric([state], count)
        yield deliveries


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return registry


@bp.get("/metrics")
def metrics():
    """Prometheus text format; only with `Authorization: Bearer <SECGO_METRICS_TOKEN>`."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not token:
        return Response("metrics are off: set SECGO_METRICS_TOKEN\n", 404, mimetype="text/plain")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("a metrics token is needed\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = generate_latest(_registry())
    return Response(body, 200, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers at the current schema, and Redis (when the
    rate limits are kept there) answers. 503 with the failing checks otherwise."""
    checks = {"database": _check_database(), "rate_limit_storage": _check_limiter()}
    ready = all(value in ("ok", "not used") for value in checks.values())
    return ({"status": "ready" if ready else "not ready", "checks": checks},
            200 if ready else 503, {"Cache-Control": "no-store"})


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        migrate = current_app.extensions.get("migrate")

        if migrate is None or not inspect(db.engine).has_table("alembic_version"):
            return "ok"  # a schema made by create_all (demo, tests): nothing to compare
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        from alembic.script import ScriptDirectory

        heads = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads()
        return "ok" if current in heads else f"schema {current} is not at {', '.join(heads)}: run flask db upgrade"
    except Exception as err:  # readiness reports any failure, never raises it
        db.session.rollback()
        return f"failed: {type(err).__name__}"


def _check_limiter() -> str:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if not current_app.config.get("RATELIMIT_ENABLED", True) or not uri.startswith(("redis://", "rediss://", "redis+")):
        return "not used"
    try:
        from ..extensions import limiter

        return "ok" if limiter.storage.check() else "failed: no answer"
    except Exception as err:  # readiness reports any failure, never raises it
        return f"failed: {type(err).__name__}"


def init_app(app):
    """Request ids, request metrics, JSON logs (SECGO_LOG_FORMAT=json), /metrics and /readyz."""
    app.config.setdefault("REQUEST_LOG", False)
    app.before_request(_start)
    app.after_request(_finish)
    if app.config.get("LOG_FORMAT") == "json":
        _use_json_logs(app)
    app.register_blueprint(bp)
