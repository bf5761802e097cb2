"""Hand messages to translators and reviewers, and merge their answers into the catalogs.

    python scripts/i18n_work.py todo km todo-km.json     # messages of km still empty or fuzzy
    python scripts/i18n_work.py merge km done-km.json    # {msgid: msgstr | [plural forms]}
    python scripts/i18n_work.py review review.html       # side by side, for a native reviewer
    python scripts/i18n_work.py review review.csv        # the same as a spreadsheet

The review file lists every message with its English, the five translations, the translators'
note, the glossary terms it uses (and each language's fixed word for them) and the pages where
it appears, linked to their screenshots in docs/screenshots/ (found by rendering the demo's
pages: the messages seen on each page and the templates it is drawn from).
"""
import csv
import html
import io
import json
import logging
import os
import re
import sys
import tempfile
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("km", "lo", "my", "th", "vi")
GLOSSARY = ROOT / "secgo" / "translations" / "GLOSSARY.md"
SHOTS = ROOT / "docs" / "screenshots"


def _path(lang):
    return ROOT / "secgo" / "translations" / lang / "LC_MESSAGES" / "messages.po"


def _load(lang):
    with _path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def _save(lang, catalog):
    with _path(lang).open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True, omit_header=False)


def _empty(message):
    if isinstance(message.string, (list, tuple)):
        return not all(message.string)
    return not message.string


def todo(lang, out):
    catalog = _load(lang)
    items = []
    for m in catalog:
        if not m.id or not (_empty(m) or m.fuzzy):
            continue
        item = {"msgid": m.id[0] if isinstance(m.id, tuple) else m.id}
        if isinstance(m.id, tuple):
            item["msgid_plural"] = m.id[1]
            item["plural_forms"] = catalog.num_plurals
        if m.context:
            item["context"] = m.context
        items.append(item)
    Path(out).write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{lang}: {len(items)} messages to translate -> {out}")


def merge(lang, src):
    catalog = _load(lang)
    answers = json.loads(Path(src).read_text(encoding="utf-8"))
    filled = 0
    for m in catalog:
        if not m.id:
            continue
        key = m.id[0] if isinstance(m.id, tuple) else m.id
        if key not in answers:
            continue
        value = answers[key]
        if isinstance(m.id, tuple):
            forms = value if isinstance(value, list) else [value] * catalog.num_plurals
            m.string = tuple(forms[: catalog.num_plurals]) + tuple(
                forms[-1:] * (catalog.num_plurals - len(forms))
            )
        else:
            m.string = value[0] if isinstance(value, list) else value
        m.flags.discard("fuzzy")
        filled += 1
    _save(lang, catalog)
    print(f"{lang}: merged {filled} messages")


# --- the side-by-side review file ------------------------------------------------------------


def _key(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _text(string):
    return " | ".join(string) if isinstance(string, tuple | list) else (string or "")


def glossary_terms():
    """English term -> {lang: fixed word}, from every table of GLOSSARY.md."""
    terms = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or line.startswith("|---") or len(cells) < 6:
            continue
        if cells[0].startswith("`"):  # coded tables: code | English | five words
            cells = cells[1:]
        english, words = cells[0], cells[1:6]
        if english in ("English", "—") or len(words) < 5:
            continue
        # "update (a status update)" -> "update"; "report a problem / raise an issue" -> both
        for name in re.sub(r"\s*\(.*?\)", "", english).split(" / "):
            if name.strip():
                terms[name.strip()] = dict(zip(LANGS, words, strict=True))
    return terms


def terms_in(msgid, terms):
    """The glossary terms an English message uses (whole words, any case, simple plurals)."""
    found = []
    for term in terms:
        if re.search(rf"(?<![\w]){re.escape(term)}(?:s|es)?(?![\w])", msgid, re.I):
            found.append(term)
    # "report a problem" holds "problem": keep only the longest terms that match
    return [t for t in found if not any(t != o and t.lower() in o.lower() for o in found)]


def _page_text(body):
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    attrs = " ".join(re.findall(r'(?:aria-label|title|placeholder|alt|value)="([^"]*)"', body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + attrs)


def script_hooks():
    """static/js module -> what in a page makes it run: the modules app.js loads only where a
    page has their hook (`if (document.querySelector('[data-voice]')) import('./voice.js')`)."""
    app_js = (ROOT / "secgo" / "static" / "js" / "app.js").read_text(encoding="utf-8")
    hooks = {}
    for selector, module in re.findall(r"querySelector\('([^']+)'\)\)\s*import\('\./([\w-]+\.js)'\)", app_js):
        attr = re.fullmatch(r"\[([\w-]+)\]", selector)
        if attr:
            hooks[f"static/js/{module}"] = re.compile(rf"\s{re.escape(attr.group(1))}[\s=>]")
    return hooks


@cache
def _referenced(env, name):
    """The templates one template extends, includes or imports macros from (each parsed once)."""
    from jinja2 import meta

    source = env.loader.get_source(env, name)[0]
    return tuple(n for n in meta.find_referenced_templates(env.parse(source)) if n)


def _with_parts(env, names):
    """The templates named and every template they extend, include or import macros from
    (Flask signals only the page's own template)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        todo.extend(_referenced(env, name))
    return found


@cache
def where_shown():
    """Screenshot page name -> (English text of the page, templates and scripts it is drawn from).

    The demo's pages rendered in English on a temporary database, as scripts/screenshots.py
    shows them (with the voice note it leaves on the demo order); a script's messages belong
    to the pages that load it. Worked out once per process (the pages do not change in it);
    the throwaway database's passwords are hashed the quick way, each person signs in once,
    and every page is drawn (none answered from the page cache), so its templates are seen.
    """
    from flask import template_rendered

    sys.path.insert(0, str(ROOT))
    from scripts.screenshots import PAGES, tone_webm
    from secgo import create_app
    from secgo.demo import PASSWORD, seed_demo
    from secgo.extensions import db

    pages = {}
    saved = os.environ.get("SECGO_INSTANCE_PATH")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SECGO_INSTANCE_PATH"] = tmp
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/review.db", "WTF_CSRF_ENABLED": False,
                              "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                              "REMEMBER_COOKIE_SECURE": False, "UPLOAD_FOLDER": f"{tmp}/uploads",
                              "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "PAGE_CACHE": False})
        finally:
            if saved is None:
                os.environ.pop("SECGO_INSTANCE_PATH", None)
            else:
                os.environ["SECGO_INSTANCE_PATH"] = saved
        logging.getLogger("secgo.requests").setLevel(logging.WARNING)  # no request log here
        with app.app_context():
            db.create_all()
            seed_demo()
        producer = app.test_client()  # the voice note screenshots.py leaves on the demo order
        producer.post("/login", data={"login": "demo-producer", "password": PASSWORD})
        producer.post("/orders/SEC-7K3F9Q/updates", content_type="multipart/form-data",
                      data={"status": "note", "note": "", "voice": (io.BytesIO(tone_webm()), "voice.webm")})
        hooks = script_hooks()
        seen = []
        def record(sender, template, context, **kw):
            seen.append(template.name)

        # weak=False: blinker keeps only a weak reference by default, and a lambda handed to it
        # is gone before the first page is drawn (no template was ever recorded).
        template_rendered.connect(record, app, weak=False)
        clients = {}
        for name, (login, path) in PAGES.items():
            client = clients.get(login)
            if client is None:
                client = clients[login] = app.test_client()
                if login:
                    client.post("/login", data={"login": login, "password": PASSWORD})
            seen.clear()
            response = client.get(path, headers={"Accept-Language": "en"})
            if response.status_code < 400:
                body = response.get_data(as_text=True)
                scripts = {module for module, hook in hooks.items() if hook.search(body)}
                pages[name] = (_page_text(body), _with_parts(app.jinja_env, seen) | scripts)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return pages


class _Shown:
    """Whether a page's text shows a msgid (its placeholders stand for anything short): the
    pattern is tried only on a text that holds the msgid's longest literal part (a plain
    substring test, where the pattern's look-behind makes each search walk the whole text)."""

    def __init__(self, parts):
        self.needle = max(parts, key=len)
        self.regex = re.compile(r"(?<![\w])" + r".{1,80}?".join(re.escape(p) for p in parts) + r"(?![\w])",
                                re.S)

    def search(self, text):
        return self.needle in text and self.regex.search(text)


def _pattern(msgid):
    parts = re.split(r"%\(\w+\)[sd]|%[sd]", msgid)
    if not any(p.strip() for p in parts):
        return None
    return _Shown(parts)


def message_sources():
    """msgid -> the files (secgo/...) it is marked in, read with the project's babel.cfg."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
    sources = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        sources.setdefault(msgid, set()).add(filename)
    return sources


def review_rows():
    """One row per message: msgid, plural, note, five translations, terms, pages, files."""
    catalogs = {lang: _load(lang) for lang in LANGS}
    terms = glossary_terms()
    pages = where_shown()
    sources = message_sources()
    rows = []
    for message in catalogs[LANGS[0]]:
        if not message.id:
            continue
        msgid = _key(message)
        plural = message.id[1] if isinstance(message.id, tuple) else ""
        patterns = [p for p in (_pattern(msgid), plural and _pattern(plural)) if p]  # "2 seconds"
        files = sorted(sources.get(msgid, ()))
        templates = {f.split("templates/", 1)[1] for f in files if "templates/" in f}
        templates |= {f.split("secgo/", 1)[-1] for f in files if "static/js/" in f}
        shown = [name for name, (text, drawn) in pages.items() if any(p.search(text) for p in patterns)]
        drawn_from = [name for name, (text, drawn) in pages.items() if templates & drawn and name not in shown]
        used = terms_in(msgid, terms)
        rows.append({
            "msgid": msgid,
            "plural": plural,
            "note": " ".join(message.auto_comments),
            **{lang: _text(catalogs[lang].get(msgid, context=message.context).string) for lang in LANGS},
            "terms": [(t, terms[t]) for t in used],
            "pages": shown or drawn_from[:3],
            "files": files,
        })
    return rows


def _shot(page, lang, out_dir):
    path = SHOTS / f"{page}-{lang}.png"
    return os.path.relpath(path, out_dir) if path.exists() else None


def review(out):
    """Write the side-by-side review file: HTML (open in a browser) or CSV (a spreadsheet)."""
    out = Path(out).resolve()
    rows = review_rows()
    if out.suffix == ".csv":
        with out.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: spreadsheets read UTF-8
            writer = csv.writer(fh)
            writer.writerow(["msgid", "msgid_plural", "translator note", *LANGS, "glossary terms",
                             "screenshots", "source files", "reviewer's remarks"])
            for r in rows:
                terms = "; ".join(f"{t}: " + ", ".join(f"{lang} {w}" for lang, w in words.items())
                                  for t, words in r["terms"])
                shots = " ".join(filter(None, (_shot(p, "en", out.parent) for p in r["pages"])))
                writer.writerow([r["msgid"], r["plural"], r["note"], *(r[lang] for lang in LANGS), terms,
                                 shots, " ".join(r["files"]), ""])
    else:
        out.write_text(_review_html(rows, out.parent), encoding="utf-8")
    print(f"review: {len(rows)} messages -> {out}")


def _review_html(rows, out_dir):
    e = html.escape
    head = "".join(f"<th lang={lang}>{lang}</th>" for lang in LANGS)
    body = []
    for n, r in enumerate(rows, 1):
        terms = "".join(
            f"<li><b>{e(t)}</b>: " + " · ".join(f"<span lang={lang}>{e(w)}</span>" for lang, w in words.items())
            + "</li>" for t, words in r["terms"])
        shots = "".join(
            f"<li>{e(p)}: " + " ".join(f'<a href="{e(link)}">{lang}</a>' for lang in ("en", *LANGS)
                                       if (link := _shot(p, lang, out_dir))) + "</li>" for p in r["pages"])
        english = e(r["msgid"]) + (f"<br><i>{e(r['plural'])}</i>" if r["plural"] else "")
        note = f'<p class=note>{e(r["note"])}</p>' if r["note"] else ""
        cells = "".join(f"<td lang={lang}>{e(r[lang])}</td>" for lang in LANGS)
        body.append(f"<tr id=m{n}><td>{n}</td><td>{english}{note}<p class=files>{e(' '.join(r['files']))}</p></td>"
                    f"{cells}<td><ul>{terms}</ul></td><td><ul>{shots}</ul></td></tr>")
    return f"""<!doctype html><html lang=en><meta charset=utf-8>
<title>SEC GO! translations side by side</title>
<style>body{{font:14px/1.6 system-ui,"Noto Sans Khmer","Noto Sans Lao","Noto Sans Myanmar","Noto Sans Thai",sans-serif;margin:1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}}
th{{position:sticky;top:0;background:#eef}}td[lang=km],td[lang=my]{{line-height:1.9}}ul{{margin:0;padding-left:1rem}}
.note{{color:#555;font-style:italic;margin:.2rem 0}}.files{{color:#888;font-size:11px;margin:0}}
tr:target{{background:#ffd}}</style>
<h1>SEC GO! — every message in five languages</h1>
<p>{len(rows)} messages. Glossary: <code>secgo/translations/GLOSSARY.md</code>. Screenshots are from
<code>docs/screenshots/</code> (360×740). Write corrections in a copy of this file or in the CSV
(<code>python scripts/i18n_work.py review review.csv</code>), then record the review in the glossary.</p>
<table><thead><tr><th>#</th><th>English</th>{head}<th>glossary terms</th><th>where (screenshots)</th></tr></thead>
<tbody>{"".join(body)}</tbody></table></html>
"""


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "review":
        review(args[0])
    else:
        {"todo": todo, "merge": merge}[command](*args[:2])
