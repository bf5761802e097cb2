"""The five catalogs are complete, consistent and compiled; no page shows untranslated English.

The tests marked `translations` fail until the translators have filled every catalog
(`make translations` merges new strings; translators follow secgo/translations/GLOSSARY.md).
They run in the normal suite on purpose: an untranslated string is a bug a person sees.
"""
import os
import re
import time
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from secgo.i18n import (
    LANGUAGE_NAMES,
    ZAWGYI_SURE,
    compile_catalogs,
    zawgyi_probability,
    zawgyi_to_unicode,
)

pytestmark = pytest.mark.once


ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "secgo" / "translations"
LANGS = ("km", "lo", "my", "th", "vi")
# The same keywords as `make translations`.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=None)
def catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


@lru_cache(maxsize=1)
def source_msgids() -> dict[str, tuple[str, ...]]:
    """Every msgid marked in the code today (Python, templates, scripts): msgid -> forms."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        forms = message if isinstance(message, tuple) else (message,)
        if forms[0]:
            found[forms[0]] = forms
    return found


def messages(lang: str):
    return [m for m in catalog(lang) if m.id]


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


# --- structure (passes today) ------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_has_a_catalog_with_its_plural_rule(lang):
    cat = catalog(lang)
    assert cat.locale == Locale.parse(lang)
    assert cat.num_plurals == 1  # none of km, lo, my, th, vi inflects for number
    assert cat.plural_forms == "nplurals=1; plural=0;"
    for message in messages(lang):
        if message.pluralizable:
            assert len(message.string) == cat.num_plurals, message.id


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_the_placeholders_of_the_source(lang):
    wrong = []
    for message in messages(lang):
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        expected = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            # One plural form may leave out the count ("one item"), never add or rename.
            if text and not (placeholders(text) <= expected and (
                placeholders(text) == expected or message.pluralizable
            )):
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, f"{lang}: placeholders differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("lang", LANGS)
def test_translations_are_stored_in_nfc(lang):
    odd = [m.id for m in messages(lang) for text in _strings(m)
           if text and not unicodedata.is_normalized("NFC", text)]
    assert not odd, f"{lang}: not NFC: {odd[:10]}"


def test_burmese_translations_are_unicode_not_zawgyi():
    # The detector is unreliable on a word or two; what matters is that input handling would
    # leave the text alone: either it is not Zawgyi-like, or converting it changes nothing.
    zawgyi = [m.id for m in messages("my") for text in _strings(m)
              if text and zawgyi_probability(text) >= ZAWGYI_SURE and zawgyi_to_unicode(text) != text]
    mixed = [m.id for m in messages("my") for text in _strings(m)
             if any("\u0e80" <= ch <= "\u0eff" or "\u0e00" <= ch <= "\u0e7f" for ch in text or "")]
    assert not mixed, f"Burmese text with Lao or Thai letters in it: {mixed[:10]}"
    assert not zawgyi, f"type these in Unicode Burmese, not Zawgyi: {zawgyi[:10]}"


def _strings(message) -> tuple:
    return tuple(message.string) if isinstance(message.string, tuple | list) else (message.string,)


def test_the_placeholder_check_catches_a_renamed_placeholder():
    assert placeholders("Sent %(count)s of %(total)s") == {"%(count)s", "%(total)s"}
    assert placeholders("ส่งแล้ว %(count)s จาก %(totl)s") != placeholders("Sent %(count)s of %(total)s")


# --- completeness (fails until translated) -------------------------------------------------


@pytest.mark.translations
@pytest.mark.parametrize("lang", LANGS)
def test_every_marked_string_is_in_the_catalog(lang):
    missing = sorted(set(source_msgids()) - {m.id if isinstance(m.id, str) else m.id[0] for m in messages(lang)})
    assert not missing, (
        f"{lang}: {len(missing)} strings are not in the catalog; run `make translations`:\n"
        + "\n".join(map(repr, missing[:40]))
    )


@pytest.mark.translations
@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated(lang):
    empty, fuzzy = [], []
    for message in messages(lang):
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy:
            fuzzy.append(message.id)
        elif not all(strings):
            empty.append(message.id)
    assert not empty and not fuzzy, (
        f"{lang}: {len(empty)} untranslated, {len(fuzzy)} fuzzy of {len(messages(lang))}; first: "
        + ", ".join(repr(m) for m in (empty + fuzzy)[:15])
    )


# --- compiled catalogs are never stale ----------------------------------------------------


def _write_po(path: Path, lang: str, entries: dict):
    cat = Catalog(locale=lang)
    for msgid, msgstr in entries.items():
        cat.add(msgid, msgstr)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, cat)


def test_starting_the_app_compiles_every_catalog(app):
    for lang in LANGS:
        po, mo = po_path(lang), po_path(lang).with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, lang


def test_a_changed_catalog_is_picked_up_when_the_app_starts(tmp_path, database_url):
    from secgo.extensions import db
    from tests.conftest import make_app

    directory = tmp_path / "translations"
    po = directory / "th" / "LC_MESSAGES" / "messages.po"

    def login_page(name):
        app = make_app(tmp_path / name, database_url, BABEL_TRANSLATION_DIRECTORIES=str(directory))
        with app.app_context():
            db.create_all()
        html = app.test_client().get("/login", headers={"Accept-Language": "th"}).get_data(as_text=True)
        with app.app_context():
            db.engine.dispose()
        return html

    _write_po(po, "th", {"Log in": "เข้าสู่ระบบ"})
    assert "เข้าสู่ระบบ" in login_page("first")

    _write_po(po, "th", {"Log in": "ลงชื่อเข้าใช้"})
    later = time.time() + 5  # an edit made after the last build, even within one second
    os.utime(po, (later, later))
    html = login_page("second")
    assert "ลงชื่อเข้าใช้" in html and "เข้าสู่ระบบ" not in html


def test_compiling_skips_catalogs_that_are_up_to_date(tmp_path):
    po = tmp_path / "vi" / "LC_MESSAGES" / "messages.po"
    _write_po(po, "vi", {"Orders": "Đơn hàng"})
    assert compile_catalogs(tmp_path) == 1
    assert compile_catalogs(tmp_path) == 0
    later = time.time() + 5
    os.utime(po, (later, later))
    assert compile_catalogs(tmp_path) == 1


def test_a_read_only_install_compiles_its_catalogs_into_the_instance_folder(
    tmp_path, database_url, monkeypatch
):
    """site-packages owned by root, or a read-only image: the .mo files go to the instance."""
    from secgo.extensions import db
    from secgo.i18n import catalogs
    from tests.conftest import make_app

    installed = tmp_path / "site-packages" / "secgo" / "translations"
    _write_po(installed / "vi" / "LC_MESSAGES" / "messages.po", "vi", {"Log in": "Đăng nhập"})
    replace = os.replace

    def read_only(src, dst):  # what writing into a read-only folder does (even for root)
        if Path(dst).is_relative_to(installed):
            raise PermissionError(13, "Permission denied", str(dst))
        replace(src, dst)

    monkeypatch.setattr(catalogs.os, "replace", read_only)
    app = make_app(tmp_path / "app", database_url, BABEL_TRANSLATION_DIRECTORIES=str(installed))
    compiled = tmp_path / "app" / "instance" / "translations"
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(compiled)
    assert (compiled / "vi" / "LC_MESSAGES" / "messages.mo").exists()
    assert [p.name for p in installed.rglob("*") if p.is_file()] == ["messages.po"]
    with app.app_context():
        db.create_all()
    html = app.test_client().get("/login", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
    assert "Đăng nhập" in html


def test_processes_starting_at_once_each_leave_a_whole_catalog(tmp_path):
    """gunicorn workers and push workers compile at the same moment into one folder."""
    import subprocess
    import sys

    from babel.support import Translations

    source, target = tmp_path / "tr", tmp_path / "instance" / "translations"
    entries = {f"Message {i}": f"ข้อความ {i}" for i in range(2000)}
    _write_po(source / "th" / "LC_MESSAGES" / "messages.po", "th", entries)
    code = "import sys; from secgo.i18n.catalogs import compile_catalogs; compile_catalogs(*sys.argv[1:])"
    starts = [subprocess.Popen([sys.executable, "-c", code, str(source), str(target)],
                               cwd=Path(__file__).resolve().parent.parent) for _ in range(6)]
    assert [p.wait(timeout=60) for p in starts] == [0] * 6
    assert sorted(p.name for p in target.rglob("*") if p.is_file()) == ["messages.mo"]
    translations = Translations.load(str(target), ["th"])
    assert translations.gettext("Message 1999") == "ข้อความ 1999"


# --- no untranslated English on any page --------------------------------------------------

VISIBLE_ATTRS = {"title", "alt", "placeholder", "aria-label", "label"}


class _Texts(HTMLParser):
    """Each text node and visible attribute of a page, whitespace collapsed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: set[str] = set()
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if value and name in VISIBLE_ATTRS:
                self._add(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        if not self.skip:
            self._add(data)

    def _add(self, text):
        text = " ".join(text.split())
        if text:
            self.texts.add(text)
            self.texts.update(part.strip() for part in text.split(" · ") if part.strip())


def page_texts(html: str) -> set[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def _pattern(msgid: str) -> re.Pattern | None:
    """A msgid as a pattern for a whole text (placeholders match anything), if it has words."""
    literals = PLACEHOLDER.split(msgid)[::2]  # split() also returns each placeholder's name
    if not re.search(r"[^\W\d_]{2,}", " ".join(literals).replace("SEC GO!", "")):
        return None
    if len(literals) > 1 and len(" ".join(literals).split()) < 2:
        # One word and a placeholder ("Order %(reference)s") would match what people write
        # ("Order received, milling next week."): too little to tell interface from user text.
        return None
    words = [r"\s+".join(map(re.escape, part.split())) for part in literals]
    return re.compile(r"\s*.+?\s*".join(words))


def english_patterns(same: frozenset = frozenset()) -> list[tuple[str, re.Pattern]]:
    """Patterns of the English msgids (all forms) except those in same."""
    out = []
    for msgid, forms in sorted(source_msgids().items()):
        if msgid in same or msgid in LANGUAGE_NAMES.values():
            continue
        out.extend((msgid, pattern) for pattern in map(_pattern, forms) if pattern is not None)
    return out


def translated_as_itself(lang: str) -> frozenset:
    """Msgids a translator kept as they are in English ("OK", "UTC")."""
    return frozenset(
        m.id if isinstance(m.id, str) else m.id[0]
        for m in messages(lang)
        if not m.fuzzy and m.string and (m.string == m.id or (
            isinstance(m.string, tuple | list) and m.string[0] in m.id))
    )


def english_on_page(html: str, patterns) -> list[str]:
    texts = page_texts(html)
    return sorted({msgid for msgid, pattern in patterns for text in texts if pattern.fullmatch(text)})


def test_the_english_check_finds_interface_text_but_not_user_text():
    html = (
        '<html><title>Orders · SEC GO!</title><h1>Orders</h1>'
        '<button aria-label="Language">ไทย</button>'
        '<p>Take the orders to the border</p><script>x = "Log in"</script></html>'
    )
    texts = page_texts(html)
    assert "Orders" in texts and "Language" in texts and "Log in" not in texts
    pattern = _pattern("Sent %(count)s updates")
    assert pattern.fullmatch("Sent 3 updates") and not pattern.fullmatch("Sent updates to Bangkok")
    assert _pattern("%(count)s") is None


def _pages_of(client, start_paths):
    """The pages to check: the start paths, plus the first order and issue linked from them."""
    paths = list(start_paths)
    for listing, link in (("/orders", r'href="(/orders/SEC-[0-9A-Z]+)"'), ("/issues", r'href="(/issues/\d+)"')):
        html = client.get(listing).get_data(as_text=True)
        match = re.search(link, html)
        if match:
            paths.append(match.group(1))
    return paths


PAGES = {
    "anon": ["/login", "/offline", "/no-such-page"],
    "demo-producer": ["/orders", "/orders/new", "/issues", "/settings", "/offline"],
    "demo-customer": ["/orders", "/issues", "/settings", "/matching", "/matching/matches/1"],
    "demo-coordinator": ["/coordinator", "/orders", "/issues", "/onboarding/",
                         "/onboarding/people/new", "/onboarding/organizations/new",
                         "/matching", "/matching/new", "/matching/1", "/matching/1/report",
                         "/matching/matches/1"],
}


def english_on_pages(app, lang: str, patterns) -> dict[str, set[str]]:
    """Seed the demo, view the key pages of each role in lang; English msgid -> paths."""
    from secgo.demo import PASSWORD, seed_demo
    from secgo.extensions import db
    from secgo.models import User

    with app.app_context():
        seed_demo()
        for user in db.session.scalars(db.select(User)):
            user.locale = lang
        db.session.commit()
    found: dict[str, set[str]] = {}
    for who, start in PAGES.items():
        client = app.test_client()
        if who != "anon":
            client.post("/login", data={"login": who, "password": PASSWORD})
        for path in _pages_of(client, start) if who != "anon" else start:
            response = client.get(path, headers={"Accept-Language": lang})
            html = response.get_data(as_text=True)
            if response.mimetype != "text/html":
                continue
            assert f'<html lang="{lang}"' in html, path
            for msgid in english_on_page(html, patterns):
                found.setdefault(msgid, set()).add(path)
    return found


def _report(lang, found):
    return f"{lang}: {len(found)} English texts on pages:\n" + "\n".join(
        f"{msgid!r} on {', '.join(sorted(paths))}" for msgid, paths in sorted(found.items())[:40]
    )


@pytest.mark.translations
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
def test_no_page_shows_untranslated_english(app, lang):
    found = english_on_pages(app, lang, english_patterns(translated_as_itself(lang)))
    assert not found, _report(lang, found)


def _pseudo(text: str) -> str:
    """Text a reader can still follow but that holds no English word: fullwidth letters."""
    pieces = re.split(r"(%\(\w+\)[sd]|%[sd])", text)
    return "".join(p if i % 2 else _fullwidth(p) for i, p in enumerate(pieces))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


def test_every_text_on_the_pages_goes_through_the_catalog(tmp_path, database_url):
    """With every message (pseudo-)translated, no English interface text is left on a page.

    Passes today: it proves the pages take all their words from the catalog, so what the
    translators fill in is what people will read.
    """
    from secgo.extensions import db
    from tests.conftest import make_app

    cat = Catalog(locale="th")
    for msgid, forms in source_msgids().items():
        cat.add(forms if len(forms) > 1 else msgid, (_pseudo(forms[-1]),) if len(forms) > 1 else _pseudo(msgid))
    po = tmp_path / "tr" / "th" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as fh:
        write_po(fh, cat)
    app = make_app(tmp_path / "app", database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                   BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "tr"))
    with app.app_context():
        db.create_all()
    try:
        found = english_on_pages(app, "th", english_patterns())
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert not found, _report("th (pseudo)", found)
