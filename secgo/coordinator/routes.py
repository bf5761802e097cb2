"""The coordinator's dashboard and its CSV exports."""
from flask import Response, current_app, render_template, request
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup

from ..assets import Recent
from ..audit.services import record
from ..authz import roles_required
from ..extensions import db
from ..issues.routes import visible_clusters
from ..models import utcnow
from . import bp, promptness, services


def _inputs():
    now = utcnow()
    return services.parse_filters(request.args), services.parse_period(request.args, now), now


def _figures_html(period, export_args) -> Markup:
    """The promptness and border sections as drawn, kept per app and process: they show only
    the push worker's monthly rollups, so they change only when a refresh writes new ones
    (promptness.generation), and are drawn once per refresh for each scope, language, zone and
    address. (Names of clusters and organizations in them follow a rename at the next refresh.)"""
    drawn = current_app.extensions.setdefault("secgo.figures_drawn", Recent(4 * 1024 * 1024))
    key = (promptness.generation(), promptness.user_scope(current_user), str(get_locale()),
           str(get_timezone()), period.first_day, period.last_day, tuple(sorted(request.args.items(multi=True))))
    return Markup(drawn.get_or_make(key, lambda: render_template(
        "coordinator/_promptness.html", export_args=export_args,
        p=promptness.dashboard_section(current_user, period, request.args.get("month")))))


@bp.get("/coordinator")
@roles_required("coordinator", "admin")
def dashboard():
    filters, period, now = _inputs()
    data = services.dashboard(
        current_user, filters, period, now, current_app.config["COORDINATOR_UNANSWERED_HOURS"]
    )
    export_args = {**request.args.to_dict(), "from": period.first_day.isoformat(),
                   "to": period.last_day.isoformat()}
    return render_template(
        "coordinator/dashboard.html", d=data, filters=filters, period=period, now=now,
        clusters=visible_clusters(current_user), figures=_figures_html(period, export_args),
        export_args=export_args,
    )


def _download(body: bytes, name: str) -> Response:
    # A download of other people's trade data is in the account history.
    record("data_exported", details={"file": name, "filters": request.args.to_dict()})
    db.session.commit()
    return Response(
        body, mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Content-Type": "text/csv; charset=utf-8"},
    )


@bp.get("/coordinator/issues.csv")
@roles_required("coordinator", "admin")
def issues_csv():
    filters, period, now = _inputs()
    body = services.issues_csv(current_user, filters, period, now)
    return _download(body, f"secgo-issues-{period.first_day}-{period.last_day}.csv")


@bp.get("/coordinator/orders.csv")
@roles_required("coordinator", "admin")
def orders_csv():
    filters, period, now = _inputs()
    body = services.orders_csv(current_user, filters, period, now)
    return _download(body, f"secgo-orders-{period.first_day}-{period.last_day}.csv")


@bp.get("/coordinator/promptness.csv")
@roles_required("coordinator", "admin")
def promptness_csv():
    _filters, period, _now = _inputs()
    body = promptness.promptness_csv(current_user, period)
    return _download(body, f"secgo-promptness-{period.first_day}-{period.last_day}.csv")


@bp.get("/coordinator/borders.csv")
@roles_required("coordinator", "admin")
def borders_csv():
    _filters, period, _now = _inputs()
    body = promptness.borders_csv(current_user, period)
    return _download(body, f"secgo-borders-{period.first_day}-{period.last_day}.csv")
