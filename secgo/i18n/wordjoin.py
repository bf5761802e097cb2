"""Long compound words that a narrow screen must not split: joined when the catalogs are built.

Chromium and Android break Burmese lines at dictionary word boundaries, so a compound such as
ညှိနှိုင်းရေးမှူး ("coordinator") can end a line with ညှိနှိုင်း and start the next with ရေးမှူး.
An invisible WORD JOINER (U+2060) between its parts forbids that. The catalogs keep the plain
words (translators never type the joiner); the compiled .mo files and the scripts' catalogs get it.
"""
WORD_JOINER = "\u2060"

# language -> compounds, their parts separated by "|" where a line must not break.
KEEP_WHOLE = {
    "my": (
        "ညှိနှိုင်း|ရေး|မှူး",      # coordinator
        "ဖြစ်စဉ်|မှတ်တမ်း",        # timeline
        "သယ်ယူ|ပို့ဆောင်|ရေး",      # transport
        "အကောက်|ခွန်",             # customs
        "အ|ရင်",                   # first ("most urgent first")
        "မ|လို",                   # "not needed" (optional)
    ),
}


def _pairs(locale: str) -> tuple[tuple[str, str], ...]:
    return tuple((w.replace("|", ""), w.replace("|", WORD_JOINER)) for w in KEEP_WHOLE.get(locale, ()))


def join_words(locale: str, text: str) -> str:
    """The text with each long compound of its language held together on one line."""
    for plain, joined in _pairs(locale):
        text = text.replace(plain, joined)
    return text


def join_catalog(catalog) -> None:
    """Join the compounds in every translation of a Babel catalog (in place)."""
    locale = str(catalog.locale) if catalog.locale else ""
    if locale not in KEEP_WHOLE:
        return
    for message in catalog:
        if not message.id or not message.string:
            continue
        if isinstance(message.string, tuple | list):
            message.string = tuple(join_words(locale, s) for s in message.string)
        else:
            message.string = join_words(locale, message.string)
