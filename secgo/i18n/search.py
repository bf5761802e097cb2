"""Search folding: Vietnamese found with or without marks, unspaced scripts by substring."""
import unicodedata


def fold(text: str | None) -> str:
    """Fold text for search: NFC, case-folded, Vietnamese (and other Latin) marks removed.

    Thai, Khmer, Lao and Burmese have no case and keep their marks; substring search on the
    folded text then finds words in scripts written without spaces.
    """
    text = unicodedata.normalize("NFC", text or "").casefold()
    out = []
    for ch in unicodedata.normalize("NFD", text.replace("đ", "d")):
        if unicodedata.combining(ch) and _base_is_latin(out):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _base_is_latin(out: list[str]) -> bool:
    return bool(out) and out[-1] < "\u0250"
