"""Site, accounts and onboarding routes."""
from .common import api, everyone, logged_in, staff_only  # noqa: F401

# endpoint -> (method, url (str or callable(ctx) -> str), {role: status}, form data)
ROUTES = {
    "static": ("GET", "/static/css/app.css", everyone(200), None),
    "main.index": ("GET", "/", everyone(302), None),
    "main.offline": ("GET", "/offline", everyone(200), None),
    "main.service_worker": ("GET", "/service-worker.js", everyone(200), None),
    "main.healthz": ("GET", "/healthz", everyone(200), None),
    # An out-of-date hash is sent on to the current catalog's URL.
    "i18n.catalog": ("GET", "/i18n/th.000000000000.json", everyone(302), None),
    "main.set_language": ("POST", "/language", everyone(302), {"lang": "th", "next": "/"}),
    "auth.login": ("GET", "/login", {**everyone(302), "anon": 200}, None),
    "auth.logout": ("POST", "/logout", everyone(302), None),
    "auth.redeem": ("GET", "/invite/not-a-real-token", everyone(404), None),
    "auth.settings": ("GET", "/settings", logged_in(200), None),
    "onboarding.index": ("GET", "/onboarding/", staff_only(), None),
    "onboarding.invite": ("GET", "/onboarding/people/new", staff_only(), None),
    "onboarding.new_organization": ("GET", "/onboarding/organizations/new", staff_only(), None),
    "onboarding.reset": (
        "POST",
        lambda ctx: f"/onboarding/people/{ctx.users['producer']}/reset",
        {**staff_only(201)},
        None,
    ),
    "api.openapi": ("GET", "/api/v1/openapi.json", everyone(200), None),
    "api.me": ("GET", "/api/v1/me", api(200), None),
    "api.not_found": ("GET", "/api/v1/no-such-thing", api(404, anon=404), None),
}


