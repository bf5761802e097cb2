"""Attack: tell which logins exist from how long a failed log-in takes.

Wall-clock timing is flaky, so the test observes the work instead: every failed log-in must
run exactly one real password check, with the configured hash method. The real werkzeug
function still runs; the test only counts its calls."""
import re

import pytest

import secgo.models.user
from secgo.auth import services
from secgo.extensions import db
from secgo.models import User

pytestmark = pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)


@pytest.fixture
def hash_checks(monkeypatch):
    """The hashes every password check of the app compares against, in order."""
    seen = []
    real = secgo.models.user.check_password_hash

    def observed(pwhash, password):
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(secgo.models.user, "check_password_hash", observed)
    return seen


def post_login(client, login, password):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token})


def test_unknown_inactive_and_passwordless_logins_cost_the_same_hash_work_as_a_wrong_password(
        app, world, client, hash_checks):
    with app.test_request_context():
        db.session.get(User, world.users["other_producer"]).active = False
        services.create_user(username="invited", display_name="Invited", role="admin")  # no password yet
        db.session.commit()
    method = app.config["PASSWORD_HASH_METHOD"]
    for login in ("producer", "nobody-here", "other_producer", "invited"):
        hash_checks.clear()
        assert post_login(client, login, "not the password").status_code == 401, login
        assert len(hash_checks) == 1, (login, hash_checks)
        assert hash_checks[0].split("$", 1)[0] == method, (login, hash_checks)
