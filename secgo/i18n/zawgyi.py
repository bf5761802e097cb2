"""Zawgyi-encoded Burmese: how likely a text is Zawgyi, and its conversion to Unicode."""
import unicodedata
from functools import lru_cache

# Google's myanmar-tools recommends converting automatically at 0.95 and above.
ZAWGYI_SURE = 0.95
ZAWGYI_UNSURE = 0.05


@lru_cache(maxsize=1)
def _zawgyi_detector():
    from myanmartools import ZawgyiDetector

    return ZawgyiDetector()


@lru_cache(maxsize=1)
def _zawgyi_converter():
    import icu

    return icu.Transliterator.createInstance("Zawgyi-my")


def _has_myanmar(text: str) -> bool:
    return any("\u1000" <= ch <= "\u109f" or "\uaa60" <= ch <= "\uaa7f" for ch in text)


def zawgyi_probability(text: str) -> float:
    """Probability that Burmese text is Zawgyi-encoded (0 for text with no Myanmar letters)."""
    if not text or not _has_myanmar(text):
        return 0.0
    return float(_zawgyi_detector().get_zawgyi_probability(text))


def zawgyi_to_unicode(text: str) -> str:
    """Convert Zawgyi-encoded Burmese to Unicode with ICU's transliterator."""
    return unicodedata.normalize("NFC", _zawgyi_converter().transliterate(text))
