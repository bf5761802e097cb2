"""Hand untranslated messages to translators as JSON and merge their answers into the catalogs.

    python scripts/i18n_work.py todo km todo-km.json     # messages of km still empty or fuzzy
    python scripts/i18n_work.py merge km done-km.json    # {msgid: msgstr | [plural forms]}
"""
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


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


if __name__ == "__main__":
    command, lang, file = sys.argv[1:4]
    {"todo": todo, "merge": merge}[command](lang, file)
