"""Every word a person can read goes through gettext: templates, Python and scripts.

Fails on text in a template outside {{ _() }}, on a literal given to flash(), ApiError,
a form field or a validator without _()/_l(), on strings built inside _(), and on literals a
script puts on screen (textContent, title, aria-label, alert, confirm ...) without gettext().
"""
import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

from secgo.i18n import LANGUAGE_NAMES

pytestmark = pytest.mark.once


ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "secgo"
TEMPLATES = sorted((PACKAGE / "templates").rglob("*.html"))
# Alembic's migrations hold no user-visible text.
PY_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.relative_to(PACKAGE).parts)
SCRIPTS = sorted((PACKAGE / "static" / "js").rglob("*.js")) + [PACKAGE / "service-worker.js"]

# Words that are the same in every language.
ALLOWED = ("SEC GO!", *LANGUAGE_NAMES.values())
LETTER = re.compile(r"[^\W\d_]")
GETTEXT = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext",
           "lazy_pgettext", "npgettext"}


def readable(text: str) -> bool:
    """True when text still has letters once brand, language names and blanks are gone."""
    for word in ALLOWED:
        text = text.replace(word, "")
    return bool(LETTER.search(text))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


# --- templates --------------------------------------------------------------------------

VISIBLE_ATTRS = {"title", "alt", "placeholder", "aria-label", "aria-description", "label",
                 "aria-placeholder", "aria-roledescription", "aria-valuetext"}
HOLE = "\x00"  # where a Jinja expression or tag was


def template_skeleton(source: str) -> str:
    """The template's literal text, with each Jinja tag or expression replaced by HOLE.

    Text inside {% trans %} ... {% endtrans %} is translated, so it becomes a HOLE too.
    Line breaks are kept, so positions in the skeleton are positions in the template.
    """
    env = Environment(extensions=["jinja2.ext.i18n"])
    out = []
    in_trans = 0
    previous = None  # the last token that is not whitespace
    for _lineno, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin":
            if value == "trans":
                in_trans += 1
            elif value == "endtrans":
                in_trans -= 1
        if kind != "whitespace":
            previous = kind
        if kind == "data" and not in_trans:
            out.append(value)
        else:
            out.append(f" {HOLE} " + "\n" * value.count("\n"))
    return "".join(out)


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            if value and (name in VISIBLE_ATTRS or (
                name == "value" and attrs.get("type") in ("submit", "button", "reset")
            )):
                self._check(value)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        if not self.skip:
            self._check(data)

    def _check(self, text):
        words = " ".join(text.replace(HOLE, " ").split())
        if readable(words):
            self.found.append((self.getpos()[0], words))


def template_offenders(path: Path) -> list[str]:
    """Readable text in a template that no gettext call wraps."""
    finder = _TextFinder()
    finder.feed(template_skeleton(path.read_text(encoding="utf-8")))
    finder.close()
    return [f"{rel(path)}:{line}: {text!r}" for line, text in finder.found]


def test_template_text_is_marked_for_translation():
    offenders = [o for path in TEMPLATES for o in template_offenders(path)]
    assert not offenders, "wrap in {{ _('...') }}:\n" + "\n".join(offenders)


def test_the_template_check_finds_unmarked_text(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '{% extends "base.html" %}{% block content %}\n'
        '<h1>{{ _("Orders") }}</h1>\n'
        '<p class="muted">No orders yet.</p>\n'
        '<button title="Send now">{{ _("Send") }}</button>\n'
        '<input type="submit" value="Save">\n'
        '<span>SEC GO! · ไทย · {{ n }} &amp; 12:30 — ✓</span>\n'
        '{% trans %}Hello {{ name }}{% endtrans %}\n'
        '<script type="application/json">{"text": "not shown"}</script>\n'
        '<a href="{{ url }}"{% if x %} aria-current="page"{% endif %}>{{ _("Next") }}</a>\n'
        "{% endblock %}\n"
    )
    found = template_offenders(bad)
    assert [f.split(": ", 1)[1] for f in found] == ["'No orders yet.'", "'Send now'", "'Save'"]
    assert found[0].endswith(":3: 'No orders yet.'")


# --- Python -----------------------------------------------------------------------------

FIELD_SUFFIX = "Field"
VALIDATORS = {"DataRequired", "InputRequired", "Optional", "Length", "EqualTo", "Email",
              "Regexp", "NumberRange", "AnyOf", "NoneOf", "URL", "IPAddress", "UUID",
              "FileAllowed", "FileRequired", "FileSize"}
RAISED_MESSAGES = {"ValidationError", "StopValidation"}


def _name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _literal_text(node) -> bool:
    """A string the code spells out (or builds) rather than asks gettext for."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and readable(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_literal_text(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) or _literal_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("format", "join") and _literal_text(node.func.value)
    return False


def _kw(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def python_offenders(source: str, filename: str) -> list[str]:
    """Literals shown to people without gettext, and strings built inside gettext."""
    found = []

    def flag(node, why):
        found.append((node.lineno, node.col_offset, f"{filename}:{node.lineno}: {why}"))

    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        args = node.args
        if name in GETTEXT:
            if args and not isinstance(args[0], ast.Constant):
                flag(node, f"{name}() needs a literal msgid with named placeholders")
            continue
        if name == "flash" and args and _literal_text(args[0]):
            flag(node, "flash() message not wrapped in _()")
        elif name == "ApiError":
            message = _kw(node, "message") or (args[1] if len(args) > 1 else None)
            if message is not None and _literal_text(message):
                flag(node, "ApiError message not wrapped in _()")
            fields = _kw(node, "fields") or (args[2] if len(args) > 2 else None)
            if isinstance(fields, ast.Dict) and any(_literal_text(v) for v in fields.values):
                flag(node, "ApiError field message not wrapped in _()")
        elif name.endswith(FIELD_SUFFIX) and name[:1].isupper():
            label = _kw(node, "label") or (args[0] if args else None)
            if label is not None and _literal_text(label):
                flag(node, f"{name} label not wrapped in _l()")
            description = _kw(node, "description")
            if description is not None and _literal_text(description):
                flag(node, f"{name} description not wrapped in _l()")
        elif name in VALIDATORS:
            message = _kw(node, "message")
            if message is not None and _literal_text(message):
                flag(node, f"{name} message not wrapped in _l()")
            elif name in ("Email", "Optional", "DataRequired", "InputRequired", "URL") and args \
                    and _literal_text(args[0]):
                flag(node, f"{name} message not wrapped in _l()")
        elif name in RAISED_MESSAGES and args and _literal_text(args[0]):
            flag(node, f"{name} message not wrapped in _()")
    return [text for _line, _col, text in sorted(found)]


def test_python_messages_are_marked_for_translation():
    offenders = [
        o for path in PY_MODULES
        for o in python_offenders(path.read_text(encoding="utf-8"), rel(path))
    ]
    assert not offenders, "\n".join(offenders)


def test_the_python_check_finds_unmarked_messages():
    source = '''
flash("Saved.")
flash(_("Saved."))
flash(f"Sent {n} updates")
raise ApiError(422, "Bad quantity", fields={"qty": "Too many"})
raise ApiError(404)
raise ApiError(422, _("Bad"), fields={"qty": _l("Too many")})
name = StringField("Your name", validators=[DataRequired(message="Required"), Length(max=80)])
ok = StringField(_l("Your name"), validators=[Length(max=80, message=_l("Too long"))])
raise ValidationError("Not a phone number")
_("Sent %s" % n)
_(f"Sent {n}")
_("Sent %(n)s", n=n)
ApiError(409, code="conflict")
'''
    found = [line.split(": ", 1)[1] for line in python_offenders(source, "x.py")]
    assert found == [
        "flash() message not wrapped in _()",
        "flash() message not wrapped in _()",
        "ApiError field message not wrapped in _()",
        "ApiError message not wrapped in _()",
        "StringField label not wrapped in _l()",
        "DataRequired message not wrapped in _l()",
        "ValidationError message not wrapped in _()",
        "_() needs a literal msgid with named placeholders",
        "_() needs a literal msgid with named placeholders",
    ]


# --- scripts ----------------------------------------------------------------------------

STRING = r"""(?P<q>['"`])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
SCREEN_SINKS = [
    r"\.(?:textContent|innerText|innerHTML|title|placeholder|ariaLabel|alt|value)\s*=\s*",
    r"\.setAttribute\(\s*['\"](?:title|aria-label|placeholder|alt)['\"]\s*,\s*",
    r"(?<![\w.])(?:window\.)?(?:alert|confirm|prompt)\(\s*",
    r"\.showNotification\(\s*",
    r"\.(?:append|prepend|replaceChildren|before|after)\((?:[^()]*,\s*)?",
    r"new\s+Notification\(\s*",
]
SINK = re.compile("(?:" + "|".join(SCREEN_SINKS) + ")" + STRING)
COMMENT = re.compile(r"/\*.*?\*/|(?<![:'\"\\])//[^\n]*", re.S)


def script_offenders(source: str, filename: str) -> list[str]:
    """String literals a script puts on screen without gettext()."""
    code = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    found = []
    for match in SINK.finditer(code):
        text = re.sub(r"\$\{[^}]*\}", " ", match.group("s"))
        text = re.sub(r"<[^>]*>", " ", text)  # markup in innerHTML is not text
        if readable(text):
            line = code.count("\n", 0, match.start()) + 1
            found.append(f"{filename}:{line}: {match.group(0)!r}")
    return found


def test_script_text_is_marked_for_translation():
    offenders = [
        o for path in SCRIPTS if path.exists()
        for o in script_offenders(path.read_text(encoding="utf-8"), rel(path))
    ]
    assert not offenders, "wrap in gettext('...'):\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "line, bad",
    [
        ("el.textContent = 'Waiting to send';", True),
        ('el.textContent = gettext("Waiting to send");', False),
        ("badge.title = `${n} waiting`;", True),
        ("badge.title = `${n}`;", False),
        ("btn.setAttribute('aria-label', 'Close');", True),
        ("btn.setAttribute('aria-label', gettext('Close'));", False),
        ("if (confirm('Discard this report?')) {}", True),
        ("if (window.confirm(gettext('Discard this report?'))) {}", False),
        ("reg.showNotification('SEC GO!', { body });", False),
        ("list.append(el('li', 'muted', 'Nothing is waiting.'));", False),
        ("meta.append(' · ', 'Sent');", True),
        ("el.innerHTML = '<b>' + x + '</b>';", False),
        ("el.className = 'Muted';", False),
        ("// el.textContent = 'Old comment';", False),
        ("el.textContent = '';", False),
    ],
)
def test_the_script_check_finds_unmarked_text(line, bad):
    assert bool(script_offenders(line, "x.js")) is bad
