"""Every word in the reader's script: crossings, the photo picker, the glossary's fixed words.

Issue 17: a Burmese, Khmer or Lao reader sees every border crossing in their own script; the
file input never shows the browser's English; the words fixed in GLOSSARY.md are the words the
catalogs use; long Burmese compounds and country codes are not split at the end of a line.
"""
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from secgo.i18n.labels import BORDER_LABELS, keep_codes_together
from secgo.i18n.wordjoin import KEEP_WHOLE, WORD_JOINER, join_words

pytestmark = pytest.mark.once


ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "secgo" / "translations"
GLOSSARY = TRANSLATIONS / "GLOSSARY.md"
LANGS = ("km", "lo", "my", "th", "vi")
# The Unicode script each language is written in (the first word of a letter's Unicode name).
SCRIPT = {"km": "KHMER", "lo": "LAO", "my": "MYANMAR", "th": "THAI", "vi": "LATIN"}
CODES = re.compile(r"\(([A-Z]{2})–([A-Z]{2})\)$")


@lru_cache(maxsize=None)
def catalog(lang):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def translated(lang, msgid):
    return catalog(lang)[msgid].string


def scripts_of(text):
    """The scripts of the letters in text (marks and digits are not letters)."""
    return {unicodedata.name(c).split()[0] for c in text if unicodedata.category(c).startswith("L")}


def crossing_names():
    return [label._args[0] for label in BORDER_LABELS.values()]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("msgid", crossing_names())
def test_every_border_crossing_is_written_in_the_readers_script(lang, msgid):
    name = translated(lang, msgid)
    codes = CODES.search(name)
    assert codes and codes.group(0) == CODES.search(msgid).group(0), f"country codes kept: {name!r}"
    places = name[: codes.start()]
    assert scripts_of(places) == {SCRIPT[lang]}, f"{lang}: {name!r}"


def test_a_page_never_breaks_a_crossing_inside_a_place_or_after_the_codes_dash(app):
    from flask_babel import force_locale

    assert keep_codes_together("Bavet – Moc Bai (KH–VN)") == f"Bavet – Moc Bai (KH{WORD_JOINER}–{WORD_JOINER}VN)"
    with app.test_request_context(), force_locale("my"):
        label = BORDER_LABELS["hat_lek_cham_yeam"]
        assert label.__html__() == (
            '<span class="nw">ဟတ်လက်</span> – <span class="nw">ချမ်ယမ်</span> '
            f'<span class="nw">(TH{WORD_JOINER}–{WORD_JOINER}KH)</span>'
        )  # the line may still break at the spaced dash between the two places
        assert str(label) == "ဟတ်လက် – ချမ်ယမ် (TH–KH)"  # CSV, JSON, push and <option> get plain text


def test_long_burmese_compounds_are_joined_in_what_readers_get(app):
    from flask_babel import force_locale, gettext

    assert join_words("my", "ညှိနှိုင်းရေးမှူး") == WORD_JOINER.join(("ညှိနှိုင်း", "ရေး", "မှူး"))
    assert join_words("th", "ผู้ประสานงาน") == "ผู้ประสานงาน"
    with app.test_request_context(), force_locale("my"):
        coordinator = gettext("Coordinator")
    assert coordinator.replace(WORD_JOINER, "") == translated("my", "Coordinator")
    assert WORD_JOINER in coordinator
    for compound in KEEP_WHOLE["my"]:  # each listed word is one a reader actually sees
        plain = compound.replace("|", "")
        assert any(plain in (m.string if isinstance(m.string, str) else "".join(m.string))
                   for m in catalog("my") if m.id), plain


def _glossary_rows(heading):
    """Rows of the table under a heading of GLOSSARY.md: list of cells."""
    text = GLOSSARY.read_text(encoding="utf-8")
    section = text.split(heading + "\n", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]  # without the header row


def _msgid(english):
    return re.sub(r" \(.*\)$", "", english)


CODED_TABLES = ("## Status of an order", "### Category", "### State of an issue", "### Severity")


@pytest.mark.parametrize("heading", CODED_TABLES + ("## Border crossings",))
def test_the_catalogs_use_the_glossarys_fixed_words(heading):
    rows = _glossary_rows(heading)
    assert rows
    wrong = []
    for row in rows:
        if heading in CODED_TABLES:
            if not row[0].startswith("`"):
                continue  # buttons in the state table have no code
            english, words = _msgid(row[1]), row[2:]
        else:
            english, words = row[0], row[1:]
        for lang, word in zip(LANGS, words, strict=True):
            if translated(lang, english) != word:
                wrong.append(f"{lang} {english!r}: catalog {translated(lang, english)!r}, glossary {word!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "lang, msgid, word",
    [
        ("km", "Open", "កំពុងបើក"),  # the state, not an "Open" button
        ("km", "Ready", "ត្រៀមរួចរាល់"),
        ("km", "an earlier update", "របាយការណ៍មុន"),
        ("lo", "Any", "ທັງໝົດ"),
        ("lo", "%(num)s to confirm", "ລໍຖ້າຢືນຢັນ %(num)s"),
        ("lo", "%(num)s open issue", "ບັນຫາເປີດຢູ່ %(num)s ລາຍການ"),
        ("lo", "%(num)s overdue order", "ຄຳສັ່ງຊື້ກາຍກຳນົດ %(num)s ລາຍການ"),
        ("lo", "%(num)s with no answer", "ບໍ່ມີຄຳຕອບ %(num)s ລາຍການ"),
        ("km", "Status updates", "របាយការណ៍ស្ថានភាព"),
        ("my", "Reassign", "တာဝန်လွှဲရန်"),
        ("my", "Next", "နောက်စာမျက်နှာ"),
        ("my", "Previous", "ရှေ့စာမျက်နှာ"),
        ("my", "Dashboard", "အနှစ်ချုပ်"),
        ("th", "Raised the issue", "แจ้งปัญหาแล้ว"),
        ("th", "Age", "เปิดมาแล้ว"),
        ("th", "Mark resolved", "แจ้งว่าแก้แล้ว"),
        ("vi", "Next", "Trang sau"),
        ("vi", "Previous", "Trang trước"),
        ("vi", "Dispatched", "Đã xuất hàng"),
    ],
)
def test_plainer_words_chosen_for_each_language(lang, msgid, word):
    text = translated(lang, msgid)
    assert (text[0] if isinstance(text, tuple) else text) == word


def test_thai_timeline_says_a_problem_was_raised_not_the_button():
    assert translated("th", "Raised the issue") != translated("th", "Report a problem")


def _strings(lang):
    for m in catalog(lang):
        if m.id:
            yield from ([m.string] if isinstance(m.string, str) else m.string)


# Literary forms (GLOSSARY.md rule 14): sentence-final and subject သည်, future မည်, ၏, ၍, ဤ, ၎င်း,
# သို့မဟုတ်, လျှင်, ပါက, "at" တွင် (အတွင်း "within" is a spoken word), "and/with" နှင့် and ဖြင့်,
# "that/which" သော (not သော့, a key) and သည့်/မည့် (the dot below is stored before the
# asat, so "သည်" does not find them). ဖောက်သည် (customer) and အမည် (name) are words, not particles.
BURMESE_LITERARY = re.compile(r"သည်|မည်|သည့်|မည့်|၏|၍|ဤ|၎င်း|သို့မဟုတ်|လျှင်|ပါက|တွင်(?!း)|နှင့်|ဖြင့်|သော(?!့)")


def _literary(text):
    return BURMESE_LITERARY.search(text.replace("ဖောက်သည်", "").replace("အမည်", ""))


def test_burmese_is_written_in_one_spoken_register():
    found = [s for s in _strings("my") if _literary(s)]
    assert not found, "\n".join(found[:20])


def test_the_glossarys_burmese_words_are_spoken_forms_too():
    """The glossary is what translators copy from: its Burmese column keeps rule 14 as well."""
    text = GLOSSARY.read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 6 and not line.startswith("|---"):
            burmese = cells[-3]  # columns end with km lo my th vi: my is the third from the end
            if _literary(burmese):
                found.append(burmese)
    assert not found, found


def test_khmer_and_lao_say_who_acts_instead_of_an_english_passive():
    assert not [s for s in _strings("km") if "ត្រូវបាន" in s]
    # ຖືກ before a verb is the English passive; ຖືກຕ້ອງ, ບໍ່ຖືກ ("not right") and ບໍ່ຖືກຮູບແບບ
    # ("not the right form") are not.
    lao_passive = re.compile(r"ຖືກ(?!ຕ້ອງ|ຮູບແບບ|[\s.,:;)]|$)")
    assert not [s for s in _strings("lo") if lao_passive.search(s)]


def test_khmer_calls_every_update_a_report():
    """GLOSSARY: update → របាយការណ៍; ព័ត៌មានថ្មី ("new information") made "an earlier update"
    read as "the earlier new information"."""
    assert not [s for s in _strings("km") if "ព័ត៌មានថ្មី" in s]


def test_lao_puts_a_count_after_what_it_counts():
    """GLOSSARY rule 13: ລໍຖ້າຢືນຢັນ 1, not 1 ລໍຖ້າຢືນຢັນ (a number before a classifier is fine:
    %(count)s ຖົງ)."""
    assert not [s for s in _strings("lo") if s.lstrip().startswith("%(num)s")]


def test_vietnamese_sends_reports_and_ships_goods_with_different_words():
    assert not [s for s in _strings("vi") if "gửi hàng" in s]


# --- the photo picker -----------------------------------------------------------------------


@pytest.mark.parametrize("lang, button", [("km", "ជ្រើសរូបថត"), ("my", "ဓာတ်ပုံ ရွေးရန်"), ("en", "Choose photos")])
@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
def test_the_photo_picker_is_a_translated_button_that_opens_the_file_input(app, lang, button):
    from secgo.demo import PASSWORD, seed_demo
    from secgo.extensions import db
    from secgo.models import User

    with app.app_context():
        seed_demo()
        for user in db.session.scalars(db.select(User)):
            user.locale = lang
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"login": "demo-producer", "password": PASSWORD})
    html = client.get("/orders/SEC-7K3F9Q").get_data(as_text=True)
    inputs = re.findall(r"<input[^>]*type=\"file\"[^>]*>", html)
    assert inputs
    # A voice note's file input (the no-script way to send one) hides the browser's words too.
    for tag in [t for t in inputs if 'name="voice"' in t]:
        input_id = re.search(r'id="([^"]+)"', tag).group(1)
        assert "visually-hidden" in tag
        assert re.search(rf'<label for="{input_id}" class="btn photo-btn voice-pick">[^<]+</label>', html)
    for tag in [t for t in inputs if 'name="photos"' in t]:
        input_id = re.search(r'id="([^"]+)"', tag).group(1)
        assert 'class="photo-input visually-hidden"' in tag  # the browser's own button: hidden, focusable
        assert f'aria-describedby="{input_id}-count"' in tag
        picker = re.search(rf'<label for="{input_id}" class="btn photo-btn">(.*?)</label>', html, re.S)
        assert picker and button in picker.group(1)
        assert f'id="{input_id}-count"' in html
    # and the crossing on this order, in the reader's script with its codes held together
    if lang == "km":
        assert '<span class="nw">អរញ្ញប្រទេស</span> – <span class="nw">ប៉ោយប៉ែត</span>' in html


@pytest.mark.parametrize("lang", LANGS)
def test_the_chosen_photo_count_is_translated_with_its_plural(lang):
    entry = catalog(lang)["%(n)s photo chosen"]
    assert isinstance(entry.id, tuple) and all(entry.string)
    assert "%(n)s" in entry.string[0]
    assert translated(lang, "No photo chosen") and translated(lang, "Choose photos")


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
def test_charts_draw_crossing_names_as_plain_text(app):
    """An HTML span inside an SVG <text> is not drawn: every chart gets the plain name."""
    from secgo.demo import PASSWORD, seed_demo
    from secgo.push.worker import PushWorker

    with app.app_context():
        seed_demo()
        PushWorker(app).refresh_figures()
    client = app.test_client()
    client.post("/login", data={"login": "demo-coordinator", "password": PASSWORD})
    html = client.get("/coordinator").get_data(as_text=True)
    charts = re.findall(r"<svg class=\"bars\".*?</svg>", html, re.S)
    assert len(charts) >= 4 and any("(TH–KH)" in c for c in charts)
    assert not [c for c in charts if "<span" in c]
