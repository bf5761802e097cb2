"""The invite page speaks the invitee's language; every form message is in the page's language."""
import re
from pathlib import Path

import pytest
import wtforms
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext

import secgo
from secgo.extensions import db
from secgo.forms import FlaskForm
from secgo.i18n.wtforms_messages import MESSAGES
from secgo.models import User
from tests.factories import PASSWORD, make_user

NO_LIMITS = {"RATELIMIT_ENABLED": False}


def _t(app, lang, msgid):
    with app.test_request_context("/"), force_locale(lang):
        return babel_gettext(msgid)


def _invite_link(app, world, locale="my", tz="Asia/Yangon"):
    from secgo.auth import services as accounts

    with app.app_context():
        org = db.session.get(secgo.models.Organization, world.orgs["farm"])
        person = make_user("mya", "producer", org, locale=locale, tz=tz)
        person.password_hash = None
        db.session.flush()
        admin = db.session.get(User, world.users["admin"])
        token = accounts.issue_link(person, "invite", admin)
        db.session.commit()
    return f"/invite/{token}"


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_a_burmese_invitee_on_an_english_phone_sees_the_invite_in_burmese(app, world, client):
    path = _invite_link(app, world)
    html = client.get(path, headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert '<html lang="my"' in html and 'data-tz="Asia/Yangon"' in html
    assert _t(app, "my", "Set your password") in html and "Set your password" not in html


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_the_language_switcher_still_works_on_the_invite_page(app, world, client, auth):
    path = _invite_link(app, world)
    client.get(path)
    token = auth.csrf(path)
    r = client.post("/language", data={"lang": "th", "next": path, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith(path)
    html = client.get(path).get_data(as_text=True)
    assert '<html lang="th"' in html and _t(app, "th", "Set your password") in html


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_the_invite_pages_errors_are_in_the_invitees_language(app, world, client, auth):
    path = _invite_link(app, world)
    token = auth.csrf(path)
    r = client.post(path, data={"csrf_token": token, "password": "", "confirm": ""},
                    headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert _t(app, "my", "This field is required.") in html and "This field is required." not in html
    assert 'aria-invalid="true"' in html and 'aria-invalid="None"' not in html


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_after_setting_the_password_the_welcome_is_in_their_language(app, world, client, auth):
    path = _invite_link(app, world)
    token = auth.csrf(path)
    r = client.post(path, data={"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD},
                    follow_redirects=True)
    html = r.get_data(as_text=True)
    assert '<html lang="my"' in html and _t(app, "my", "Your password is set. Welcome to SEC GO!") in html


@pytest.mark.parametrize("lang", ["km", "lo", "my", "th", "vi"])
@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
def test_the_invite_forms_errors_are_in_the_coordinators_language(app, world, client, lang):
    with app.app_context():
        db.session.get(User, world.users["coordinator"]).locale = lang
        db.session.commit()
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    r = client.post("/onboarding/people/new", data={"display_name": "", "username": "ab",
                                                    "role": "producer", "locale": "km",
                                                    "timezone": "Asia/Phnom_Penh"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _t(app, lang, "This field is required.") in html and "This field is required." not in html
    assert "characters long" not in html  # Length's own message, in the page's language
    assert 'aria-invalid="None"' not in html and html.count('aria-invalid="true"') == 2


def _wtforms_msgids():
    pot = Path(wtforms.__file__).parent / "locale" / "wtforms.pot"
    with pot.open("rb") as fh:
        return {m.id[0] if isinstance(m.id, tuple) else m.id: m.id for m in read_po(fh) if m.id}


def test_our_wtforms_messages_are_wtforms_own_word_for_word_and_translated():
    theirs = _wtforms_msgids()
    catalogs = {}
    for lang in ("km", "lo", "my", "th", "vi"):
        path = Path(secgo.__file__).parent / "translations" / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as fh:
            catalogs[lang] = read_po(fh, locale=lang)
    for message in MESSAGES:
        key = message[0] if isinstance(message, tuple) else message
        assert key in theirs, key
        assert (message if isinstance(message, tuple) else key) == theirs[key]
        for lang, catalog in catalogs.items():
            entry = catalog.get(key)
            assert entry is not None and not entry.fuzzy and all(
                entry.string if isinstance(entry.string, tuple | list) else [entry.string]), (lang, key)


def test_every_form_of_the_app_reads_wtforms_messages_from_our_catalogs(app):
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(secgo.__path__, "secgo."):
        if info.name.endswith(".forms"):
            importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import flask_wtf

    ours = [c for c in subclasses(flask_wtf.FlaskForm) if c.__module__.startswith("secgo.")]
    assert ours
    assert all(issubclass(c, FlaskForm) for c in ours), [c for c in ours if not issubclass(c, FlaskForm)]


def test_forms_ask_the_server_not_the_browser():
    """A form whose fields the browser would check (required, min, pattern...) says
    novalidate: the browser's pop-ups speak the phone's language, the server the page's."""
    root = Path(secgo.__file__).parent / "templates"
    checked = re.compile(r"\brequired\b|type=\"(email|number|url)\"|\bmin=|\bmax=|pattern=|field\(")
    found = []
    for path in sorted(root.rglob("*.html")):
        for form in re.finditer(r"<form\b[^>]*>(.*?)</form>", path.read_text(), re.S):
            tag = form.group(0)[: form.group(0).index(">") + 1]
            if checked.search(form.group(1)) and "novalidate" not in tag:
                found.append(f"{path.relative_to(root)}: {tag[:90]}")
    assert not found, found


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
def test_invite_and_reset_qr_codes_scale_with_a_quiet_zone(app, world, client):
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    r = client.post("/onboarding/people/new", data={"display_name": "Sokha", "username": "sokha",
                                                    "role": "producer", "organization": str(world.orgs["farm"]),
                                                    "locale": "km", "timezone": "Asia/Phnom_Penh"})
    html = r.get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>", html).group(0)
    assert "viewBox" in svg and "width=" not in svg and 'shape-rendering="crispEdges"' in svg
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    assert 'd="M4 4.5' in html and size >= 21 + 8  # 4 light modules on every side
