"""Quick phrases: the common notes and problems, stored as codes with parameters and shown in
each reader's language; and the titles the app composes itself (a short delivery, an update
that is not right), stored the same way.

One registry (code, parameters and their types, the gettext words, the forms that offer it)
read by the forms (chips), the services (checked before anything is written), the pages, the
API, the OpenAPI document, push and search. A stored phrase is {"code": ..., "params": {...}};
its words are looked up when it is read, in the reader's language; the free text a person
typed stays beside it, as typed.
"""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale, lazy_gettext

from .config import LOCALES
from .errors import ApiError
from .i18n import CONDITION_LABELS, STATUS_LABELS, format_number, format_quantity
from .i18n.locale import request_translations

MAX_PHRASES = 8  # per report: a handful of taps, never a wall of chips
MAX_QUANTITY = Decimal(99999999999)
MAX_COUNT = 999
FORM_PREFIX = "phrase_"  # form fields: phrase_<code>=1 and phrase_<code>_<param>=<value>
WHERE = ("update", "delivery", "issue", "comment")  # the forms that offer phrases
PARAM_TYPES = ("quantity", "count", "status", "condition")


def _l(message: str) -> str:
    """Mark a phrase's words for extraction; they are looked up when the phrase is read."""
    return message


def lazy_ngettext(singular: str, plural: str) -> tuple:
    """Mark a plural phrase for extraction (counted by its `num`); looked up when read."""
    return singular, plural


@dataclass(frozen=True)
class Phrase:
    """One phrase: its code, words (a msgid, or (singular, plural) counted by `num`),
    parameters as (name, type), and the forms that offer it (none: composed by the app)."""

    code: str
    words: object
    params: tuple = ()
    where: tuple = ()

    @property
    def param_names(self) -> tuple:
        """The names of its parameters, in order."""
        return tuple(name for name, _type in self.params)


UPDATE, DELIVERY, ISSUE, COMMENT = WHERE
PROBLEM = (DELIVERY, ISSUE, COMMENT)

PHRASES = {p.code: p for p in (
    # What a producer reports as work moves on.
    Phrase("packed", _l("Packed and labelled"), where=(UPDATE,)),
    Phrase("loaded", _l("Loaded on the truck"), where=(UPDATE,)),
    Phrase("truck_left", _l("Truck left"), where=(UPDATE,)),
    Phrase("waiting_border", _l("Waiting at the border"), where=(UPDATE, COMMENT)),
    Phrase("customs_check", _l("Customs are checking the goods"), where=(UPDATE, COMMENT)),
    Phrase("documents_sent", _l("Documents sent"), where=(UPDATE, COMMENT)),
    Phrase("delayed_days", lazy_ngettext("Delayed by %(num)s day", "Delayed by %(num)s days"),
           params=(("num", "count"),), where=(UPDATE, COMMENT)),
    Phrase("arrives_days", lazy_ngettext("Arrives in about %(num)s day",
                                         "Arrives in about %(num)s days"),
           params=(("num", "count"),), where=(UPDATE, COMMENT)),
    # TRANSLATORS: a quick phrase: fewer goods than ordered; %(quantity)s is a number and unit.
    Phrase("short_by", _l("Short by %(quantity)s"), params=(("quantity", "quantity"),),
           where=(UPDATE, *PROBLEM)),
    # What a customer finds, and what both sides say in an issue's thread.
    Phrase("damaged_packaging", _l("Damaged packaging"), where=PROBLEM),
    Phrase("goods_wet", _l("Goods got wet"), where=PROBLEM),
    Phrase("quality_low", _l("Quality is lower than agreed"), where=PROBLEM),
    Phrase("arrived_late", _l("Arrived late"), where=(DELIVERY, ISSUE)),
    Phrase("documents_missing", _l("Documents are missing"), where=(ISSUE, COMMENT)),
    Phrase("send_photo", _l("Please send a photo"), where=(ISSUE, COMMENT)),
    Phrase("call_me", _l("Please call me"), where=(ISSUE, COMMENT)),
    Phrase("sending_rest", _l("We will send the rest"), where=(COMMENT,)),
    Phrase("fixed_check", _l("Fixed, please check"), where=(COMMENT,)),
    Phrase("payment_pending", _l("Payment not received yet"), where=(ISSUE, COMMENT)),
    # Titles the app composes (offered on no form).
    Phrase("delivery_short", _l("Short delivery: received %(received)s of %(ordered)s"),
           params=(("received", "quantity"), ("ordered", "quantity"))),
    Phrase("delivery_damaged", _l("Damaged delivery: received %(received)s of %(ordered)s"),
           params=(("received", "quantity"), ("ordered", "quantity"))),
    Phrase("delivery_wrong_item", _l("Wrong item delivered: received %(received)s of %(ordered)s"),
           params=(("received", "quantity"), ("ordered", "quantity"))),
    # TRANSLATORS: title of an issue raised with "This is wrong" on a status update.
    Phrase("update_wrong", _l("Not right: the update “%(status)s”"),
           params=(("status", "status"),)),
)}

CHOOSE_PHRASE = lazy_gettext("Choose quick phrases from the list.")


def offered(where: str) -> list[Phrase]:
    """The phrases a form offers, in the registry's order."""
    return [p for p in PHRASES.values() if where in p.where]


# --- reading a request ------------------------------------------------------------------------

def _bad_param(phrase: Phrase, kind: str):
    example = render({"code": phrase.code, "params": {}}, placeholder="…")
    if kind == "quantity":
        return lazy_gettext("“%(phrase)s”: enter a quantity greater than 0.", phrase=example)
    if kind == "count":
        return lazy_gettext("“%(phrase)s”: enter a whole number from 1 to %(max)s.", phrase=example,
                  max=MAX_COUNT)
    return CHOOSE_PHRASE


def _clean_param(phrase: Phrase, kind: str, value):
    """A parameter as stored (text), or None when it is not acceptable."""
    if kind == "quantity":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return None
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            return None
        if (not number.is_finite() or not 0 < number <= MAX_QUANTITY
                or number.as_tuple().exponent < -3):
            return None
        return format(number.normalize(), "f")
    if kind == "count":
        if isinstance(value, bool):
            return None
        try:
            number = int(str(value).strip()) if isinstance(value, (str, int)) else None
        except ValueError:
            return None
        return number if number is not None and 1 <= number <= MAX_COUNT else None
    if kind == "status":
        return value if value in STATUS_LABELS else None
    if kind == "condition":
        return value if value in CONDITION_LABELS else None
    return None


def _requested(data: dict) -> list[tuple[str, dict]]:
    """(code, raw params) pairs from a JSON list `phrases` or the form's phrase_* fields."""
    wanted = []
    raw = data.get("phrases")
    if raw is not None and raw != "":
        if not isinstance(raw, list) or len(raw) > MAX_PHRASES:
            raise ApiError(422, fields={"phrases": lazy_gettext(
                "Send a list of at most %(n)s quick phrases.", n=MAX_PHRASES)})
        for item in raw:
            if isinstance(item, str):
                item = {"code": item}
            if (not isinstance(item, dict) or not isinstance(item.get("code"), str)
                    or not isinstance(item.get("params", {}), dict)
                    or set(item) - {"code", "params"}):
                raise ApiError(422, fields={"phrases": CHOOSE_PHRASE})
            wanted.append((item["code"], dict(item.get("params", {}))))
    form_keys = [k for k in data if isinstance(k, str) and k.startswith(FORM_PREFIX)]
    params_of = {}
    for key in form_keys:
        rest = key[len(FORM_PREFIX):]
        if rest in PHRASES:
            if data[key] not in ("1", "on", 1, True):
                raise ApiError(422, fields={"phrases": CHOOSE_PHRASE})
            continue
        code, _sep, name = rest.rpartition("_")
        phrase = PHRASES.get(code)
        if phrase is None or name not in phrase.param_names:
            raise ApiError(422, fields={"phrases": CHOOSE_PHRASE})
        params_of.setdefault(code, {})[name] = data[key]
    for key in form_keys:
        code = key[len(FORM_PREFIX):]
        if code in PHRASES:
            wanted.append((code, params_of.get(code, {})))
    return wanted


def read(data: dict, where: str, *, unit: str | None = None) -> list[dict]:
    """The quick phrases of a write, checked: a list of {"code", "params"}, or a 422 that
    names what is wrong (nothing is written). Quantities carry the order's unit."""
    phrases, seen = [], set()
    for code, params in _requested(data):
        phrase = PHRASES.get(code)
        if phrase is None or where not in phrase.where:
            raise ApiError(422, fields={"phrases": CHOOSE_PHRASE})
        if code in seen:
            continue
        seen.add(code)
        if set(params) - set(phrase.param_names):
            raise ApiError(422, fields={"phrases": CHOOSE_PHRASE})
        clean = {}
        for name, kind in phrase.params:
            value = _clean_param(phrase, kind, params.get(name))
            if value is None:
                raise ApiError(422, fields={"phrases": _bad_param(phrase, kind)})
            clean[name] = value
        if any(kind == "quantity" for _name, kind in phrase.params) and unit:
            clean["unit"] = unit
        phrases.append({"code": code, "params": clean})
    if len(phrases) > MAX_PHRASES:
        raise ApiError(422, fields={"phrases": lazy_gettext(
            "Send a list of at most %(n)s quick phrases.", n=MAX_PHRASES)})
    return phrases


def compose(code: str, unit: str | None = None, **params) -> dict:
    """A phrase the app composes itself (an issue's title), as stored."""
    phrase = PHRASES[code]
    clean = {name: params[name] for name in phrase.param_names}
    for name, kind in phrase.params:
        if kind == "quantity":
            clean[name] = format(Decimal(str(clean[name])).normalize(), "f")
    if unit and any(kind == "quantity" for _name, kind in phrase.params):
        clean["unit"] = unit
    return {"code": code, "params": clean}


# --- showing ------------------------------------------------------------------------------------

def _shown(kind: str, value, unit):
    if kind == "quantity":
        try:
            return format_quantity(Decimal(str(value)), unit)
        except (InvalidOperation, ValueError, TypeError):
            return ""
    if kind == "count":
        return format_number(value) if isinstance(value, int) else ""
    labels = STATUS_LABELS if kind == "status" else CONDITION_LABELS
    label = labels.get(value)
    return str(label) if label is not None else ""


def render(stored, placeholder: str | None = None) -> str:
    """A stored phrase in the current language (the page's, or force_locale's); "" for a code
    this version does not know."""
    if not isinstance(stored, dict):
        return ""
    phrase = PHRASES.get(stored.get("code"))
    if phrase is None:
        return ""
    params = stored.get("params") or {}
    unit = params.get("unit")
    values = {name: placeholder if placeholder is not None else _shown(kind, params.get(name), unit)
              for name, kind in phrase.params}
    translations = request_translations()
    if isinstance(phrase.words, tuple):
        count = params.get("num") if isinstance(params.get("num"), int) else 2
        text = translations.ungettext(*phrase.words, count)
    else:
        text = translations.ugettext(phrase.words)
    try:
        return text % values if values else text
    except (KeyError, ValueError, TypeError):
        return text


def title(typed: str, stored) -> str:
    """An issue's title for the reader: a composed one rendered, a typed one as typed."""
    return (render(stored) if stored else "") or typed


def render_all(stored_list) -> list[str]:
    """Each stored phrase of a list in the current language (unknown codes left out)."""
    return [text for text in (render(p) for p in stored_list or ()) if text]


def as_json(stored_list) -> list[dict]:
    """For the API: each phrase's code and parameters, and its text in the caller's language."""
    return [{"code": p["code"], "params": p.get("params") or {}, "text": render(p)}
            for p in stored_list or () if p.get("code") in PHRASES]


def one_json(stored) -> dict | None:
    """One phrase (a composed title) for the API, or None."""
    return as_json([stored])[0] if stored else None


def search_words(stored_list) -> str:
    """Each phrase in all six languages: what search folds, so "Truck left" is found in Thai."""
    words = []
    for locale in LOCALES:
        with force_locale(locale):
            words.extend(render_all(stored_list))
    return " ".join(dict.fromkeys(words))


def init_app(app) -> None:
    """Give templates the registry: offered(where), phrase_text(stored), phrase_texts(list)."""
    app.jinja_env.globals.update(offered_phrases=offered, phrase_text=render,
                                 phrase_texts=render_all, PHRASE_PREFIX=FORM_PREFIX)
