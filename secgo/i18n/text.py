"""Text people type, as it is stored: NFC, no control characters, sure Zawgyi converted."""
import re
import unicodedata

from .zawgyi import ZAWGYI_SURE, ZAWGYI_UNSURE, zawgyi_probability, zawgyi_to_unicode


class NormalizedText(str):
    """Normalised text that remembers what was typed and how sure the Zawgyi guess was."""

    original: str | None
    zawgyi_suggestion: str | None


# NUL is left in so that validation refuses it with a message (PostgreSQL cannot store it).
CONTROL_CHARS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(value: str | None) -> NormalizedText:
    """NFC-normalise input; convert sure Zawgyi to Unicode, keeping the original beside it.

    When the detector is unsure, the text is kept as typed and a suggestion is attached
    for the form to show as "did you mean ...?".
    """
    if isinstance(value, NormalizedText):
        return value  # already settled (e.g. by check_zawgyi): keep its original and answer
    text = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n"))
    # Invisible control characters never belong in a note.
    text = CONTROL_CHARS.sub("", text).strip()
    original = suggestion = None
    p = zawgyi_probability(text)
    if p >= ZAWGYI_SURE:
        converted = zawgyi_to_unicode(text)
        if converted != text:
            original, text = text, converted
    elif p > ZAWGYI_UNSURE:
        converted = zawgyi_to_unicode(text)
        suggestion = converted if converted != text else None
    result = NormalizedText(text)
    result.original = original
    result.zawgyi_suggestion = suggestion
    return result
