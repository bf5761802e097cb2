"""Message catalogs: each .po compiled at start, and the JSON catalogs served to scripts.

The .po files are package data (secgo/translations/); the .mo files are built from them when
the app starts, beside them, or in the instance folder when the installed package is read-only.
"""
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from ..config import LOCALES, PACKAGE
from . import wordjoin
from .wordjoin import join_catalog

# JS modules get only the messages they use, from the same .po files as the pages
# (paths inside the package).
JS_SOURCES = ("static/js/**/*.js", "service-worker.js")
JS_KEYWORDS = {"gettext": None, "ngettext": (1, 2)}


def compile_catalogs(directory: str | os.PathLike, target: str | os.PathLike | None = None) -> int:
    """Compile every messages.po whose .mo is missing or older; return how many were built.

    The .mo files go beside the .po files, or under `target` in the same <ll>/LC_MESSAGES/ shape.
    """
    source = Path(directory)
    target = source if target is None else Path(target)
    built = 0
    for po_path in source.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        # wordjoin.py changes what is compiled too (its list of words held together)
        newest = max(po_path.stat().st_mtime, Path(wordjoin.__file__).stat().st_mtime)
        if mo_path.exists() and mo_path.stat().st_mtime >= newest:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        join_catalog(catalog)  # long compounds stay on one line (wordjoin.py)
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}")
        try:
            with tmp.open("wb") as fh:
                write_mo(fh, catalog)
            os.replace(tmp, mo_path)  # atomic: several workers may start at once
        finally:
            tmp.unlink(missing_ok=True)
        built += 1
    return built


def compiled_directory(directory: str | os.PathLike, instance_path: str | os.PathLike) -> str:
    """Compile the catalogs and return the folder that holds the .mo files.

    Beside the .po files when that folder can be written (a checkout, or an install owned by
    the service's user); else (site-packages owned by root, a read-only image) in
    <instance>/translations, which each instance keeps up to date from the installed .po files.
    """
    try:
        compile_catalogs(directory)
        return str(directory)
    except OSError:  # PermissionError, or EROFS on a read-only file system
        target = Path(instance_path) / "translations"
        compile_catalogs(directory, target)
        return str(target)


def js_msgids(root: Path = PACKAGE) -> dict[str, str | None]:
    """Msgids used by the scripts (singular -> plural or None), read with Babel's JS extractor."""
    found: dict[str, str | None] = {}
    for pattern in JS_SOURCES:
        for path in sorted(root.glob(pattern)):
            with path.open("rb") as fh:
                for _lineno, message, _comments, _context in extract(
                    "javascript", fh, keywords=JS_KEYWORDS
                ):
                    if isinstance(message, tuple):
                        found[message[0]] = message[1]
                    elif message:
                        found.setdefault(message, None)
    return found


def script_catalog(directory: str | os.PathLike, locale: str, msgids: dict) -> dict:
    """Translations of msgids for one language: msgid -> text, or list of plural forms."""
    po_path = Path(directory) / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not po_path.exists():
        return {}
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    join_catalog(catalog)
    out: dict = {}
    for msgid in sorted(msgids):
        message = catalog.get(msgid)
        if message is None or message.fuzzy:
            continue
        if isinstance(message.string, tuple | list):
            if all(message.string):
                out[msgid] = list(message.string)
        elif message.string:
            out[msgid] = message.string
    return out


def build_script_catalogs(directory: str | os.PathLike) -> dict[str, tuple[str, bytes]]:
    """locale -> (hash, JSON body) for every language, from the scripts and the .po files."""
    return _build_script_catalogs(str(directory), _sources_stamp(directory))


def _sources_stamp(directory) -> tuple:
    paths = [p for pattern in JS_SOURCES for p in PACKAGE.glob(pattern)]
    paths += Path(directory).glob("*/LC_MESSAGES/messages.po")
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in paths))


@lru_cache(maxsize=8)
def _build_script_catalogs(directory: str, _stamp: tuple) -> dict[str, tuple[str, bytes]]:
    from .formatting import script_date_formats

    msgids = js_msgids()
    built = {}
    for locale in LOCALES:
        # "%dates": how the pages write a moment (no msgid starts with "%").
        body = json.dumps(
            {**script_catalog(directory, locale, msgids), "%dates": script_date_formats(locale)},
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        ).encode()
        built[locale] = (hashlib.sha256(body).hexdigest()[:12], body)
    return built


def script_catalogs(app) -> dict[str, tuple[str, bytes]]:
    """The script catalogs built when the app started (kept in memory for its lifetime)."""
    return app.extensions["secgo_script_catalogs"]


def init_app(app):
    """Compile the catalogs that are missing or stale, then build the scripts' catalogs.

    Runs before Flask-Babel is bound: BABEL_TRANSLATION_DIRECTORIES names the .po files and
    becomes the folder of the compiled .mo files (the same folder, unless it is read-only).
    """
    directory = app.config["BABEL_TRANSLATION_DIRECTORIES"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compiled_directory(directory, app.instance_path)
    app.extensions["secgo_script_catalogs"] = build_script_catalogs(directory)
