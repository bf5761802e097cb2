"""Site, accounts and onboarding routes."""
from tests.factories import matrix_invite

from .common import Row, api, everyone, logged_in, staff_only  # noqa: F401


def _audited(world):
    from secgo.extensions import db
    from secgo.models import AuditEvent

    db.session.add(AuditEvent(action="login", actor_id=world.users["producer"],
                              subject_id=world.users["producer"], organization_id=world.orgs["farm"],
                              details={}))
    db.session.commit()
    return "/audit/"

# endpoint -> (method, url (str or callable(world) -> str), {role: status}, body): see common.py
ROUTES = {
    "static": ("GET", "/static/css/app.css", everyone(200), None),
    "main.index": ("GET", "/", everyone(302), None),
    "main.offline": ("GET", "/offline", everyone(200), None),
    "main.service_worker": ("GET", "/service-worker.js", everyone(200), None),
    "main.healthz": ("GET", "/healthz", everyone(200), None),
    "ops.readyz": ("GET", "/readyz", everyone(200), None),
    # Off unless SECGO_METRICS_TOKEN is set; then the token, not a session, is the credential.
    "ops.metrics": ("GET", "/metrics", everyone(404), None),
    # An out-of-date hash is sent on to the current catalog's URL.
    "i18n.catalog": ("GET", "/i18n/th.000000000000.json", everyone(302), None),
    "main.set_language": ("POST", "/language", everyone(302), {"lang": "th", "next": "/"}),
    "auth.login": ("GET", "/login", {**everyone(302), "anon": 200}, None),
    "auth.logout": ("POST", "/logout", everyone(302), None),
    # A live invite for a new producer: the link itself is the credential.
    "auth.redeem": ("GET", lambda w: f"/invite/{matrix_invite(w)}", everyone(200), None),
    "auth.settings": ("GET", "/settings", logged_in(200), None),
    "onboarding.index": ("GET", "/onboarding/", staff_only(), None),
    "onboarding.invite": ("GET", "/onboarding/people/new", staff_only(), None),
    "onboarding.new_organization": ("GET", "/onboarding/organizations/new", staff_only(), None),
    # The farm's producer, in the rice cluster: silk's coordinator may not reset them (404).
    "onboarding.reset": (
        "POST",
        lambda ctx: f"/onboarding/people/{ctx.users['producer']}/reset",
        {**staff_only(201), "other_coordinator": 404},
        None,
    ),
    # An event about the farm's producer: the rice coordinator manages the farm, silk's does not.
    "audit.index": Row("GET", _audited, staff_only(200), None,
                       shows=("Takeo Rice Coop", ("coordinator", "admin"))),
    "privacy.export": ("POST", "/privacy/export", logged_in(200), None),
    # Erasing weaves's producer: admins only.
    "privacy.erase_confirm": ("GET", lambda w: f"/privacy/people/{w.users['other_producer']}/erase",
                              {**logged_in(403), "admin": 200}, None),
    "privacy.erase": ("POST", lambda w: f"/privacy/people/{w.users['other_producer']}/erase",
                      {**logged_in(403), "admin": 303},
                      {"confirm": "other_producer", "client_id": "0b6f1f5e-6f4e-4b7e-9a43-7d1c2f0e9a10"}),
    "api.openapi": ("GET", "/api/v1/openapi.json", everyone(200), None),
    "api.me": ("GET", "/api/v1/me", api(200), None),
    "api.not_found": ("GET", "/api/v1/no-such-thing", api(404, anon=404), None),
}

PUBLIC = "public: the same for everyone, logged in or not"
OWN = "acts on the caller's own account only"
UNIFORM = {
    "static": PUBLIC,
    "main.index": "sends everyone on (to their orders, or to log in)",
    "main.offline": PUBLIC,
    "main.service_worker": PUBLIC,
    "main.healthz": PUBLIC,
    "ops.readyz": PUBLIC,
    "ops.metrics": "the operator's bearer token is the credential, never a session",
    "i18n.catalog": PUBLIC,
    "main.set_language": PUBLIC + " (the choice is kept in the caller's session)",
    "auth.login": "every logged-in user is sent on; only the anonymous get the form",
    "auth.logout": OWN,
    "auth.redeem": "the invite token in the URL is the credential, not the session",
    "auth.settings": OWN,
    "privacy.export": OWN,
    "api.openapi": PUBLIC,
    "api.me": OWN,
    "api.not_found": "no such route: 404 for everyone",
}
