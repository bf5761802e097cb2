"""Each person sees dates, numbers, money and script messages in their language and zone."""
import json
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from babel import Locale
from flask import render_template_string

from secgo import i18n
from secgo.extensions import db
from secgo.models import User, utcnow

# 02:00 UTC: 09:00 in Bangkok, Phnom Penh, Vientiane and Ho Chi Minh City, 08:30 in Yangon.
INSTANT = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)


@contextmanager
def viewing(app, lang, tz="Asia/Bangkok"):
    """A request by an anonymous visitor whose browser asks for lang, on a server in tz."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = tz
    with app.test_request_context("/offline", headers={"Accept-Language": lang}):
        yield


def babel_clock(lang, hour, minute):
    """What the locale's short time pattern writes for this local time of day (Khmer: its
    24-hour skeleton, since CLDR's Khmer has only the Latin "AM"/"PM")."""
    from babel.dates import parse_pattern

    local = datetime(2026, 3, 5, hour, minute)
    return parse_pattern(i18n.formatting.time_pattern(Locale.parse(lang))).apply(local, Locale.parse(lang))


@pytest.mark.parametrize(
    "lang, tz, hour, minute",
    [
        ("en", "Asia/Bangkok", 9, 0),
        ("km", "Asia/Phnom_Penh", 9, 0),
        ("lo", "Asia/Vientiane", 9, 0),
        ("my", "Asia/Yangon", 8, 30),
        ("th", "Asia/Bangkok", 9, 0),
        ("vi", "Asia/Ho_Chi_Minh", 9, 0),
    ],
)
def test_a_moment_shows_the_local_hour_of_the_viewers_zone(app, lang, tz, hour, minute):
    # The locale data decides the pattern (Thai added "น." in Babel 2.19); the zone decides
    # the hour. So: the locale's own short pattern, applied to the local time of the viewer.
    with viewing(app, lang, tz):
        clock = i18n.format_clock(INSTANT)
        assert clock == babel_clock(lang, hour, minute)
        assert re.search(rf"(^|\D)0?{hour}\D{minute:02d}(\D|$)", clock)
        for written in (i18n.format_when(INSTANT), i18n.format_when(INSTANT, "short")):
            assert re.search(rf"(^|\D)0?{hour}\D{minute:02d}(\D|$)", written)


def test_english_readers_see_a_twelve_hour_clock(app):
    with viewing(app, "en", "Asia/Bangkok"):
        assert i18n.format_clock(INSTANT) == "9:00\u202fAM"


def test_yangon_is_half_an_hour_behind_bangkok(app):
    with viewing(app, "en", "Asia/Yangon"):
        assert i18n.format_clock(INSTANT) == "8:30\u202fAM"
    with viewing(app, "en", "Asia/Bangkok"):
        assert i18n.format_clock(INSTANT) == "9:00\u202fAM"


def test_the_date_follows_the_zone_near_midnight(app):
    late = datetime(2026, 3, 5, 17, 15, tzinfo=timezone.utc)  # 00:15 on the 6th in Bangkok
    with viewing(app, "en", "Asia/Bangkok"):
        assert i18n.format_day(late) == "Mar 6, 2026"
    with viewing(app, "en", "Asia/Yangon"):
        assert i18n.format_day(late) == "Mar 5, 2026"  # 23:45 in Yangon


@pytest.mark.parametrize(
    "lang, day",
    [
        ("en", "Mar 5, 2026"),
        ("km", "5 មីនា 2026"),
        ("lo", "5 ມ.ນ. 2026"),
        ("my", "2026 မတ် 5"),
        ("th", "5 มี.ค. 2026"),
        ("vi", "5 thg 3, 2026"),
    ],
)
def test_dates_are_written_the_way_each_language_writes_them(app, lang, day):
    with viewing(app, lang):
        assert i18n.format_day(INSTANT) == day
        assert i18n.format_day(date(2026, 3, 5)) == day


@pytest.mark.parametrize(
    "lang, ago, ahead",
    [
        ("en", "3 hours ago", "in 2 days"),
        ("km", "3 ម៉ោង\u200bមុន", "2 ថ្ងៃទៀត"),
        ("lo", "3 ຊົ່ວໂມງກ່ອນ", "ໃນອີກ 2 ມື້"),
        ("my", "ပြီးခဲ့သည့် 3 နာရီ", "2 ရက်အတွင်း"),
        ("th", "3 ชั่วโมงที่ผ่านมา", "ในอีก 2 วัน"),
        ("vi", "3 giờ trước", "sau 2 ngày nữa"),
    ],
)
def test_relative_times_read_naturally(app, lang, ago, ahead):
    now = utcnow()
    with viewing(app, lang):
        assert i18n.format_ago(now - timedelta(hours=3, seconds=5)) == ago
        assert i18n.format_ago(now + timedelta(days=2, minutes=1)) == ahead


@pytest.mark.parametrize(
    "lang, number, kilos",
    [
        ("en", "1,234,567.5", "20,000 kg"),
        ("km", "1,234,567.5", "20,000 kg"),
        ("lo", "1.234.567,5", "20.000 ກິໂລ"),
        ("my", "1,234,567.5", "20,000 kg"),
        ("th", "1,234,567.5", "20,000 กก."),
        ("vi", "1.234.567,5", "20.000 kg"),
    ],
)
def test_numbers_and_quantities_use_the_languages_separators(app, lang, number, kilos):
    with viewing(app, lang):
        assert i18n.format_number(Decimal("1234567.500")) == number
        assert i18n.format_quantity(Decimal("20000.000"), "kg") == kilos


def test_quantities_keep_unknown_units_and_count_pieces(app):
    with viewing(app, "en"):
        assert i18n.format_quantity(Decimal("8"), "t") == "8 t"
        assert i18n.format_quantity(Decimal("1200"), "pcs") == "1,200 pieces"
        assert i18n.format_quantity(Decimal("1"), "pcs") == "1 piece"
        assert i18n.format_quantity(Decimal("3"), "crates") == "3 crates"
        assert i18n.format_quantity(Decimal("2.500")) == "2.5"
        assert i18n.format_quantity(None, "kg") == ""
        assert i18n.format_number(1234.5, 2) == "1,234.50"


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("en", ["KHR21,000,000.00", "LAK4,200,000", "MMK9,600,000", "THB18,500.00", "₫150,000,000", "$18,500.00"]),
        ("km", ["21,000,000.00៛", "4,200,000LAK", "9,600,000MMK", "18,500.00฿", "150,000,000₫", "18,500.00$"]),
        ("lo", ["KHR21.000.000,00", "₭4.200.000", "MMK9.600.000", "฿18.500,00", "₫150.000.000", "US$18.500,00"]),
        ("my", ["21,000,000.00\xa0KHR", "4,200,000\xa0LAK", "9,600,000\xa0K", "18,500.00\xa0฿", "150,000,000\xa0₫", "18,500.00\xa0US$"]),
        ("th", ["KHR21,000,000.00", "LAK4,200,000", "MMK9,600,000", "฿18,500.00", "₫150,000,000", "US$18,500.00"]),
        ("vi", ["21.000.000,00\xa0KHR", "4.200.000\xa0LAK", "9.600.000\xa0MMK", "18.500,00\xa0฿", "150.000.000\xa0₫", "18.500,00\xa0US$"]),
    ],
)
def test_money_in_every_corridor_currency(app, lang, expected):
    amounts = {"KHR": "21000000", "LAK": "4200000", "MMK": "9600000", "THB": "18500",
               "VND": "150000000", "USD": "18500"}
    with viewing(app, lang):
        got = [i18n.format_money(Decimal(amounts[c]), c) for c in i18n.CURRENCIES]
    assert got == expected


def test_dong_kip_and_kyat_have_no_decimals(app):
    with viewing(app, "vi"):
        assert i18n.format_money(Decimal("1234.56"), "VND") == "1.235\xa0₫"
        assert i18n.format_money(Decimal("1234.56"), "lak") == "1.235\xa0LAK"
        assert i18n.format_money(None, "USD") == ""
        assert i18n.format_money(Decimal("5"), None) == "5"


def test_templates_have_the_formatting_filters(app):
    with viewing(app, "th", "Asia/Bangkok"):
        html = render_template_string(
            "{{ t|when }}|{{ t|day }}|{{ t|clock }}|{{ n|number }}|{{ q|qty('kg') }}|{{ v|money('THB') }}|{{ t|ago }}",
            t=INSTANT, n=Decimal("1500"), q=Decimal("20"), v=Decimal("18500"),
        )
    when, day, clock, number, qty, money, ago = html.split("|")
    assert clock == babel_clock("th", 9, 0) and "09:00" in when and day == "5 มี.ค. 2026"
    assert number == "1,500" and qty == "20 กก." and money == "฿18,500.00"
    assert ago


def test_a_logged_in_person_sees_their_own_language_and_zone(app, world, client, auth):
    with app.app_context():
        user = db.session.get(User, world.users["producer"])
        user.locale, user.timezone = "my", "Asia/Yangon"
        db.session.commit()
    auth.login("producer")
    html = client.get("/settings", headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert '<html lang="my"' in html
    with app.test_request_context("/settings"):
        from flask_login import login_user

        login_user(db.session.get(User, world.users["producer"]))
        assert i18n.select_locale() == "my" and i18n.select_timezone() == "Asia/Yangon"
        assert i18n.format_clock(INSTANT) == babel_clock("my", 8, 30)


# --- catalogs for scripts ---------------------------------------------------------------


def _catalog_url(html):
    match = re.search(r'<html lang="(\w+)" data-i18n="(/i18n/\w+\.[0-9a-f]{12}\.json)"', html)
    assert match, "every page names its script catalog on <html>"
    return match.group(1), match.group(2)


@pytest.mark.parametrize("lang", ["en", "km", "lo", "my", "th", "vi"])
def test_every_page_names_the_script_catalog_of_its_language(client, lang):
    html = client.get("/login", headers={"Accept-Language": lang}).get_data(as_text=True)
    page_lang, url = _catalog_url(html)
    assert page_lang == lang and url.startswith(f"/i18n/{lang}.")
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert isinstance(response.get_json(), dict)


def test_an_old_catalog_address_leads_to_the_current_one(client):
    _lang, url = _catalog_url(client.get("/login", headers={"Accept-Language": "th"}).get_data(as_text=True))
    response = client.get("/i18n/th.0123456789ab.json")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert client.get("/i18n/xx.0123456789ab.json").status_code == 404


def test_script_messages_are_found_in_the_js_modules_and_service_worker(tmp_path):
    js = tmp_path / "static" / "js"  # paths inside the package
    js.mkdir(parents=True)
    (js / "outbox.js").write_text(
        "import { gettext, ngettext } from './i18n.js';\n"
        "el.textContent = gettext('Waiting to send');\n"
        "badge.title = ngettext('%(n)s item', '%(n)s items', n, { n });\n"
    )
    (tmp_path / "service-worker.js").write_text("const t = gettext('You are offline');\n")
    assert i18n.js_msgids(tmp_path) == {
        "Waiting to send": None,
        "%(n)s item": "%(n)s items",
        "You are offline": None,
    }


def _write_po(path, lang, entries):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(locale=lang)
    for msgid, msgstr, flags in entries:
        catalog.add(msgid, msgstr, flags=flags)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)


def test_a_script_catalog_holds_only_the_translated_script_messages(tmp_path):
    po = tmp_path / "th" / "LC_MESSAGES" / "messages.po"
    _write_po(po, "th", [
        ("Waiting to send", "รอส่ง", ()),
        ("Sent", "", ()),  # not yet translated: the script shows English
        ("Try again", "ลองใหม่", ("fuzzy",)),  # a guess: never shown
        ("Log in", "เข้าสู่ระบบ", ()),  # used by pages only
        (("%(n)s item", "%(n)s items"), ("%(n)s รายการ",), ()),
    ])
    msgids = {"Waiting to send": None, "Sent": None, "Try again": None,
              "%(n)s item": "%(n)s items"}
    assert i18n.script_catalog(tmp_path, "th", msgids) == {
        "Waiting to send": "รอส่ง",
        "%(n)s item": ["%(n)s รายการ"],
    }
    assert i18n.script_catalog(tmp_path, "en", msgids) == {}


def test_the_catalog_address_changes_when_a_translation_changes(tmp_path, database_url):
    from tests.conftest import make_app

    po = tmp_path / "tr" / "th" / "LC_MESSAGES" / "messages.po"
    msgid = next(iter(i18n.js_msgids()), None)
    if msgid is None:
        pytest.skip("no script uses gettext yet")
    _write_po(po, "th", [(msgid, "หนึ่ง", ())])
    first = make_app(tmp_path / "a", database_url, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "tr"))
    with first.test_request_context("/"):
        url_one = i18n.script_catalog_url("th")
    body = first.test_client().get(url_one).get_json()
    assert body[msgid] == "หนึ่ง"
    _write_po(po, "th", [(msgid, "สอง", ())])
    second = make_app(tmp_path / "b", database_url, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "tr"))
    with second.test_request_context("/"):
        url_two = i18n.script_catalog_url("th")
    assert url_two != url_one
    assert json.loads(second.test_client().get(url_two).get_data())[msgid] == "สอง"


def test_lengths_of_time_read_exactly_as_babel_writes_them_in_every_language(app):
    """format_duration / format_ago keep Babel's words per language, unit and number: for any
    length, kept or not, the text is Babel's own."""
    import random
    from datetime import timedelta

    from flask_babel import force_locale, format_timedelta

    from secgo.i18n.formatting import _timedelta_text

    rnd = random.Random(7)
    with app.test_request_context():
        for lang in ("en", "km", "lo", "my", "th", "vi"):
            with force_locale(lang):
                for _ in range(1500):
                    seconds = rnd.choice([rnd.uniform(-5e7, 5e7), rnd.uniform(-4000, 4000),
                                          rnd.uniform(-90, 90), 0.0, float(rnd.randint(-10**6, 10**6))])
                    for direction in (False, True):
                        for smallest in ("second", "minute"):
                            assert _timedelta_text(seconds, direction, smallest) == format_timedelta(
                                timedelta(seconds=seconds), add_direction=direction, threshold=1.1,
                                granularity=smallest), (lang, seconds, smallest)


@pytest.mark.parametrize("smallest", ["second", "minute"])
def test_a_relative_time_is_known_to_read_the_same_until_the_moment_its_words_change(app, smallest):
    """text_lasts (how long a kept page's "5 minutes ago" stays true, secgo.clock): for a past
    moment (the span grows) and a coming one (it shrinks), the words are the same all through
    that time, and differ a moment after it."""
    import random
    from datetime import timedelta

    from flask_babel import force_locale, format_timedelta

    from secgo.i18n.formatting import text_lasts

    def words(span):
        return format_timedelta(timedelta(seconds=span), add_direction=True, threshold=1.1,
                                granularity=smallest)

    rnd = random.Random(11)
    spans = [rnd.choice([rnd.uniform(0, 4e7), rnd.uniform(0, 8000), rnd.uniform(0, 200)]) for _ in range(3000)]
    spans += [60.0, 65.9, 89.9, 3959.0, 86400 * 3.4]
    with app.test_request_context(), force_locale("en"):
        for sign in (-1, 1):  # -1: "… ago", the span grows; 1: "in …", it shrinks
            for span in spans:
                seconds = sign * span
                lasts = text_lasts(seconds, growing=sign < 0, smallest=smallest)
                assert lasts >= 0
                then = words(seconds)
                for share in (0.0, 0.3, 0.7, 0.999):  # time goes by: seconds moves by -elapsed
                    assert words(seconds - lasts * share) == then, (seconds, lasts, share)
                assert words(seconds - lasts - 1e-3 * max(1.0, lasts)) != then, (seconds, lasts)
