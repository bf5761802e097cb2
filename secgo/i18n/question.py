"""The "did you mean ...?" question for text that may be Zawgyi: asked, answered, applied."""
from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from ..errors import ApiError
from .text import NormalizedText, normalize_text

ZAWGYI_ANSWERS = ("unicode", "typed")


def apply_zawgyi_choice(value: str | None, choice: str | None) -> NormalizedText:
    """Normalise input after the "did you mean ...?" question (templates/_i18n.html).

    "unicode" takes the suggested Unicode reading and keeps the typed text as the original;
    "typed" keeps the text as typed; no answer is the same as normalize_text(). A new value
    every time: the one passed in is never changed.
    """
    result = normalize_text(value)
    if choice == "unicode" and result.zawgyi_suggestion:
        chosen = NormalizedText(result.zawgyi_suggestion)
        chosen.original, chosen.zawgyi_suggestion = str(result), None
        return chosen
    if choice == "typed":
        kept = NormalizedText(result)
        kept.original, kept.zawgyi_suggestion = result.original, None
        return kept
    return result


class ZawgyiQuestion(ApiError):
    """A page form's text may be Zawgyi: ask "did you mean ...?" (422) before saving anything."""

    def __init__(self, doubts: dict):
        super().__init__(
            422, _l("This text may be in Zawgyi. Choose how to save it, then send again."),
            code="zawgyi_unsure",
        )
        self.doubts = doubts


class Settled(NamedTuple):
    """Free texts as they will be stored, and the ones the detector is unsure about."""

    texts: dict
    doubts: dict


def check_zawgyi(data: dict, names) -> Settled:
    """The one rule for free text people write (pages, the outbox and the API call it).

    Each named text field of data is settled as a NormalizedText, which the services keep as
    it is: sure Zawgyi converted (original kept), the answer "<name>_encoding" ("unicode" |
    "typed") to an earlier "did you mean ...?" applied, unless "<name>_typed" shows that the
    text was edited since. data is left as it is: the caller uses the returned texts, and the
    doubts {name: {typed, unicode, answer}}. secgo.writes refuses a plain page form with an
    unanswered doubt (ZawgyiQuestion); scripts are never blocked (see zawgyi_answer()).
    """
    texts, doubts = {}, {}
    for name in names:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            continue
        typed = normalize_text(value)
        answer = data.get(f"{name}_encoding")
        asked_about = data.get(f"{name}_typed")
        if answer not in ZAWGYI_ANSWERS or (
            isinstance(asked_about, str) and str(normalize_text(asked_about)) != str(typed)
        ):
            answer = None
        if typed.zawgyi_suggestion:
            doubts[name] = {"typed": str(typed), "unicode": typed.zawgyi_suggestion, "answer": answer}
        texts[name] = apply_zawgyi_choice(typed, answer)
    return Settled(texts, doubts)


def zawgyi_answer(doubts: dict) -> dict:
    """What a JSON answer adds for text stored as typed: {"zawgyi_suggestion": {name: ...}}."""
    open_ = {n: {"typed": d["typed"], "unicode": d["unicode"]}
             for n, d in doubts.items() if d["answer"] is None}
    return {"zawgyi_suggestion": open_} if open_ else {}
