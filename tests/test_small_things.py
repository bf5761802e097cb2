"""Small things users notice: times, numbers, settings, an empty list, the new-order form, CSV."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from babel import Locale
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext

from secgo import i18n
from secgo.extensions import db
from secgo.i18n.formatting import SCRIPT_DATE_FIELDS, moment_patterns, script_date_formats
from secgo.models import Order, Organization, User
from tests.factories import PASSWORD, make_user

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
MOMENT = datetime(2026, 11, 28, 4, 48, tzinfo=timezone.utc)  # 11:48 in Phnom Penh


def _viewing(app, lang, tz):
    app.config["BABEL_DEFAULT_TIMEZONE"] = tz
    return app.test_request_context("/offline", headers={"Accept-Language": lang})


# --- times ---------------------------------------------------------------------------------

def test_khmer_times_have_no_latin_am_pm_but_the_locales_own_24_hour_clock(app):
    with _viewing(app, "km", "Asia/Phnom_Penh"):
        for written in (i18n.format_when(MOMENT), i18n.format_when(MOMENT, "short"),
                        i18n.format_clock(MOMENT)):
            assert "AM" not in written and "PM" not in written and "11:48" in written
    with _viewing(app, "en", "Asia/Phnom_Penh"):
        assert i18n.format_clock(MOMENT) == "11:48\u202fAM"  # English keeps its 12-hour clock


@pytest.mark.parametrize("lang", ["en", "km", "lo", "my", "th", "vi"])
def test_moments_carry_the_full_year_and_drop_it_only_for_this_year(app, lang):
    last_year = datetime.now(timezone.utc).replace(month=3, day=5) - timedelta(days=400)
    with _viewing(app, lang, "Asia/Bangkok"):
        old = i18n.format_when(last_year, "short")
        assert str(last_year.year) in old
        now = i18n.format_when(datetime.now(timezone.utc), "short")
        assert str(datetime.now(timezone.utc).year) not in now
        assert str(last_year.year) in i18n.format_when(last_year)


@pytest.mark.parametrize("lang", ["en", "km", "lo", "my", "th", "vi"])
def test_scripts_get_the_same_patterns_and_only_fields_they_can_write(lang):
    formats = script_date_formats(lang)
    assert len(formats["months"]) == 12
    import re

    for key in ("year", "noyear"):
        assert set(re.findall(r"%\((\w+)\)s", formats[key])) <= SCRIPT_DATE_FIELDS
    assert "yy" not in moment_patterns(Locale.parse(lang))["year"].replace("yyyy", "")


def test_every_page_names_the_viewers_time_zone_for_its_scripts(app, world, client, auth):
    with app.app_context():
        db.session.get(User, world.users["producer"]).timezone = "Asia/Yangon"
        db.session.commit()
    auth.login("producer")
    assert 'data-tz="Asia/Yangon"' in client.get("/orders").get_data(as_text=True)


# --- settings ------------------------------------------------------------------------------

@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_settings_show_notifications_first_and_api_tokens_behind_advanced(app, world, client):
    client.post("/login", data={"login": "producer", "password": PASSWORD})
    html = client.get("/settings").get_data(as_text=True)
    main = html.split("<main", 1)[1]
    assert main.index('id="push"') < main.index("Profile") < main.index("Password")
    details = main.split('<details class="card advanced"', 1)[1]
    assert details.startswith(' id="advanced">')  # closed
    assert "API tokens" in details.split("</details>")[0]
    r = client.post("/settings", data={"action": "token", "token-name": "ERP"})
    assert '<details class="card advanced" id="advanced" open>' in r.get_data(as_text=True)


# --- an empty orders list --------------------------------------------------------------------

@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_new_producer_sees_what_to_do_and_a_button_for_the_first_order(app, world, client):
    with app.app_context():
        org = Organization(kind="producer", name="New Coop", country="KH",
                           cluster_id=world.clusters["rice"])
        db.session.add(org)
        make_user("newbie", "producer", org, locale="km")
        db.session.commit()
    client.post("/login", data={"login": "newbie", "password": PASSWORD})
    html = client.get("/orders").get_data(as_text=True)
    assert 'class="card empty-state"' in html and 'href="/orders/new"' in html
    with app.test_request_context("/"), force_locale("km"):
        assert babel_gettext("Create your first order") in html


# --- the new-order form --------------------------------------------------------------------

def _new_order(client, **fields):
    data = {"customer_org_id": "3", "product": "Rice", "quantity": "100", "unit": "kg",
            "origin": "Takeo", "destination": "Bangkok", **fields}
    return client.post("/orders/new", data=data, headers={"Accept": "application/json"})


@pytest.mark.parametrize("typed", ["1e3", "1E3", "inf", "-Infinity", "nan", "NaN", "0x10", "1_000"])
@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_quantity_in_exponent_notation_or_not_a_number_is_refused_in_the_users_language(
        app, world, client, typed):
    with app.app_context():
        db.session.get(User, world.users["producer"]).locale = "vi"
        db.session.commit()
        before = db.session.scalar(db.select(db.func.count(Order.id)))
    client.post("/login", data={"login": "producer", "password": PASSWORD})
    r = _new_order(client, customer_org_id=str(world.orgs["buyer"]), quantity=typed)
    assert r.status_code == 422
    with app.test_request_context("/"), force_locale("vi"):
        expected = babel_gettext("Write the number with digits only, for example 1500 or 12.5.")
    assert r.get_json()["error"]["fields"]["quantity"] == expected
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == before


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_plain_numbers_in_any_script_are_still_taken(app, world, client):
    client.post("/login", data={"login": "producer", "password": PASSWORD})
    for typed in ("1,500", "12.5", "၁၂"):
        r = _new_order(client, customer_org_id=str(world.orgs["buyer"]), quantity=typed)
        assert r.status_code == 201, (typed, r.get_json())


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_new_order_form_guesses_places_and_currency(app, world, client):
    with app.app_context():
        org = Organization(kind="producer", name="Kampot Pepper", country="KH", province="Kampot",
                           cluster_id=world.clusters["rice"])
        db.session.add(org)
        make_user("kampot", "producer", org)
        db.session.commit()
    client.post("/login", data={"login": "kampot", "password": PASSWORD})
    html = client.get("/orders/new").get_data(as_text=True)
    assert 'value="Kampot, Cambodia"' in html and "<option selected>KHR</option>" in html
    assert 'inputmode=decimal' in html
    # After a first order, its places, unit and currency are the guess.
    r = _new_order(client, customer_org_id=str(world.orgs["buyer"]), origin="Kampot port",
                   destination="Bangkok Klong Toey", unit="t", value="500", currency="USD")
    assert r.status_code == 201
    html = client.get("/orders/new").get_data(as_text=True)
    assert 'value="Kampot port"' in html and 'value="Bangkok Klong Toey"' in html
    assert "<option selected>USD</option>" in html and 'value="t"' in html


# --- CSV -----------------------------------------------------------------------------------

def test_csv_times_are_in_the_viewers_zone_to_the_minute_and_the_header_says_which(app, world):
    from secgo.coordinator import services as dash
    from secgo.models import Issue

    with app.test_request_context("/"):
        from flask_babel import refresh

        app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Yangon"
        refresh()
        issue = db.session.get(Issue, world.issue)
        coordinator = db.session.get(User, world.users["coordinator"])
        start = issue.created_at
        period = dash.parse_period({"from": (start - timedelta(days=1)).date().isoformat(),
                                    "to": (start + timedelta(days=1)).date().isoformat()}, start)
        rows = list(csv.reader(io.StringIO(dash.issues_csv(coordinator, {}, period, start).decode("utf-8-sig"))))
    assert rows[0][2] == "Raised at (Asia/Yangon, UTC+06:30)"
    local = start.astimezone(timezone(timedelta(hours=6, minutes=30)))
    assert rows[1][2] == local.strftime("%Y-%m-%d %H:%M")
