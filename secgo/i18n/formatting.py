"""Dates, times, numbers, quantities and money in the viewer's language and time zone."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from babel import Locale, dates
from babel.dates import TIMEDELTA_UNITS, parse_pattern
from babel.units import format_unit
from flask_babel import format_currency, format_date, format_datetime, format_decimal
from flask_babel import format_time, get_locale, get_timezone, ngettext, to_user_timezone

from ..clock import changes_in, later
from ..models import utcnow

# The viewer's language and time zone are chosen by the selectors in .locale.


def time_pattern(locale) -> str:
    """The locale's short time of day; 24-hour where its AM/PM are only Latin letters.

    CLDR's Khmer has no Khmer words for AM/PM (it writes "AM"), but its own 24-hour
    skeleton (HH:mm); Lao, Burmese, Thai and Vietnamese write 24-hour times already.
    """
    pattern = locale.time_formats["short"].pattern
    am = locale.day_periods["format"]["abbreviated"].get("am", "")
    if "a" in pattern and locale.language != "en" and am.isascii():
        return locale.datetime_skeletons["Hm"].pattern
    return pattern


def moment_patterns(locale) -> dict[str, str]:
    """CLDR patterns of a moment: "year" (28 Nov 2026, 11:48) and "noyear" (28 Nov, 11:48).

    The year is written in full (never "26"); the pages and the scripts both use these.
    """
    glue = str(locale.datetime_formats["medium"])
    clock = time_pattern(locale)
    return {
        key: glue.replace("{0}", clock).replace("{1}", locale.datetime_skeletons[skeleton].pattern)
        for key, skeleton in (("year", "yMMMd"), ("noyear", "MMMd"))
    }


# Pattern fields the scripts' formatter (static/js/i18n.js, formatMoment) knows.
SCRIPT_DATE_FIELDS = {"y", "yyyy", "M", "MM", "MMM", "d", "dd", "H", "HH", "h", "hh", "mm", "a"}


def script_date_formats(code: str) -> dict:
    """What the scripts need to write a moment as the pages do: the two moment patterns as
    "%(field)s" templates, the month abbreviations and the AM/PM words (in the script catalog)."""
    locale = Locale.parse(code)
    months = locale.months["format"]["abbreviated"]
    periods = locale.day_periods["format"]["abbreviated"]
    return {
        **{key: parse_pattern(p).format for key, p in moment_patterns(locale).items()},
        "months": [months[m] for m in range(1, 13)],
        "am": periods.get("am", "AM"),
        "pm": periods.get("pm", "PM"),
    }


# (what, language, and all else its text depends on) -> the text. A list writes twenty dates
# and quantities and a timeline thirty relative times, and Babel takes a while over each
# (about a tenth of a page's making); the text depends on nothing else, so it is made once
# per process (up to about 10 MB: tens of thousands of texts, so that the timelines people
# open again, twenty or thirty moments each, are not written anew).
_WRITTEN: dict = {}
_WRITTEN_MAX = 32768


def _written(key: tuple, make) -> str:
    text = _WRITTEN.get(key)
    if text is None:
        text = make()
        if len(_WRITTEN) >= _WRITTEN_MAX:
            _WRITTEN.clear()
        _WRITTEN[key] = text
    return text


def format_when(value: datetime | None, fmt: str = "medium") -> str:
    """Date and time of an aware datetime in the viewer's language and time zone.

    "medium": the date with its full year and the time to the minute; "short": the same
    without the year when it is this year (in the viewer's zone); other values: Babel's.
    """
    if not value:
        return ""
    if fmt not in ("short", "medium"):
        return format_datetime(value, fmt)
    locale, zone = get_locale(), str(get_timezone())
    year = None
    if fmt == "short":  # the viewer's year now: the same all through a quarter of an hour
        quarter = int(utcnow().timestamp() // 900)  # (every zone's offset is a multiple of one)
        year = _written(("year", zone, quarter), lambda: to_user_timezone(utcnow()).year)

    def make():
        this_year = year is not None and to_user_timezone(value).year == year
        return format_datetime(value, moment_patterns(locale)[("year", "noyear")[this_year]])

    return _written(("when", str(locale), zone, value, year), make)


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date (a datetime is first moved to the viewer's time zone)."""
    if not value:
        return ""
    zone = str(get_timezone()) if isinstance(value, datetime) else ""
    return _written(("day", str(get_locale()), zone, value, fmt), lambda: format_date(value, fmt))


def format_clock(value: datetime | time | None, fmt: str = "short") -> str:
    """The time of day in the viewer's time zone (see time_pattern for "short")."""
    if not value:
        return ""
    return format_time(value, time_pattern(get_locale()) if fmt == "short" else fmt)


def format_ago(value: datetime | None) -> str:
    """Relative time ("3 hours ago", "in 2 days") in the viewer's language, to the minute
    ("1 minute ago" under a minute); the page being made is told when the words will change
    (secgo.clock)."""
    if not value:
        return ""
    place = later("ago", value)
    if place is not None:  # a kept page writes it as each answer is served
        return place
    seconds = (value - utcnow()).total_seconds()
    changes_in(text_lasts(seconds, growing=seconds <= 0, smallest="minute"))  # a past moment moves away
    return relative_words("ago", seconds)


def format_duration(value: timedelta | None) -> str:
    """A length of time in the viewer's language ("3 days")."""
    return _timedelta_text(value.total_seconds(), add_direction=False) if value is not None else ""


def format_since(start: datetime | None, end: datetime | None = None) -> str:
    """How long from `start` to `end` ("3 days"), or to now, to the minute: then the page
    being made is told when the words will change (secgo.clock)."""
    if start is None:
        return ""
    if end is not None:
        return format_duration(end - start)
    place = later("since", start)
    if place is not None:  # a kept page writes it as each answer is served
        return place
    seconds = (utcnow() - start).total_seconds()
    changes_in(text_lasts(seconds, growing=seconds >= 0, smallest="minute"))
    return relative_words("since", seconds)


def relative_words(kind: str, seconds: float, locale: str | None = None) -> str:
    """The words of a relative time, to the minute, in the viewer's language (or `locale`'s):
    kind "ago", a moment `seconds` from now ("3 hours ago", "in 2 days"); "since", a span of
    `seconds` to now ("3 hours"). The pages write them so, and the page cache so fills a kept
    page's places for them (secgo.clock.later) as each answer is served."""
    return _timedelta_text(seconds, add_direction=kind == "ago", smallest="minute", locale=locale)


THRESHOLD = 1.1
UNITS = [unit for unit, _per_unit in TIMEDELTA_UNITS]  # the largest first


def _unit(seconds: float, smallest: str = "second") -> tuple[str, int, int]:
    """(unit, its seconds, the rounded number) Babel's format_timedelta (threshold 1.1,
    granularity `smallest`) writes a span of `seconds` in: the largest unit it reaches 1.1 of,
    else the smallest, where it is at least 1."""
    for unit, per_unit in TIMEDELTA_UNITS:
        value = abs(seconds) / per_unit
        if value >= THRESHOLD or unit == smallest:
            if unit == smallest and value > 0:
                value = max(1, value)
            return unit, per_unit, int(round(value))
    raise ValueError(smallest)


def text_lasts(seconds: float, growing: bool, smallest: str = "second") -> float:
    """Seconds until a span of `seconds`, growing (since a past moment) or shrinking (until a
    coming one), may be written otherwise: when its number rounds to the next, or the span
    reaches (or falls under) 1.1 of a larger unit. Never after the change; a hair before it
    where round() keeps the lower number at exactly half."""
    span = abs(seconds)
    unit, per_unit, number = _unit(span, smallest)
    thresholds = [THRESHOLD * per for _unit_name, per in TIMEDELTA_UNITS[:UNITS.index(smallest)]]
    if growing:
        return min(mark for mark in [(number + 0.5) * per_unit, *thresholds] if mark > span) - span
    lower = 0.0 if unit == smallest and number <= 1 else (number - 0.5) * per_unit  # never under 1
    marks = [mark for mark in [lower, 0.0, *thresholds] if mark < span]
    return span - max(marks) if marks else 0.0


def _timedelta_text(seconds: float, add_direction: bool, smallest: str = "second",
                    locale: str | None = None) -> str:
    """Babel's format_timedelta (threshold 1.1), kept per language, unit and rounded number:
    its words depend on nothing else, and Babel takes a while to find them. In the viewer's
    language, or `locale`'s (a code of config.LOCALES; outside a request too)."""
    unit, _per_unit, number = _unit(seconds, smallest)
    locale = locale or str(get_locale())
    key = ("span", locale, unit, number, add_direction, add_direction and seconds >= 0)
    return _written(key, lambda: dates.format_timedelta(
        timedelta(seconds=seconds), add_direction=add_direction, threshold=THRESHOLD,
        granularity=smallest, locale=locale))


def format_number(value, decimals: int | None = None) -> str:
    """A number with the viewer's digit grouping and decimal sign."""
    if value is None:
        return ""
    if decimals is not None:
        return format_decimal(value, format="#,##0." + "0" * decimals if decimals else "#,##0")
    return format_decimal(value.normalize() if isinstance(value, Decimal) else value)


# Units written in orders -> CLDR units, which Babel names in each language ("กก.", "ກິໂລ").
CLDR_UNITS = {
    "kg": "mass-kilogram",
    "g": "mass-gram",
    "t": "mass-tonne",
    "m": "length-meter",
    "cm": "length-centimeter",
    "m2": "area-square-meter",
    "m3": "volume-cubic-meter",
    "l": "volume-liter",
}


def format_quantity(value, unit: str | None = None) -> str:
    """A quantity, with its unit named in the viewer's language where we know the unit."""
    if value is None:
        return ""
    return _written(("qty", str(get_locale()), "", (value, type(value)), unit),
                    lambda: _quantity(value, unit))


def _quantity(value, unit: str | None) -> str:
    number = value.normalize() if isinstance(value, Decimal) else value
    if not unit:
        return format_decimal(number)
    cldr = CLDR_UNITS.get(unit.strip().lower())
    if cldr:
        return format_unit(number, cldr, length="short", locale=get_locale())
    count = _count_unit(unit.strip().lower(), number)
    return count if count else f"{format_decimal(number)} {unit}"


def _count_unit(unit: str, number) -> str | None:
    n = int(number) if number == int(number) else 2  # plural form for fractions
    num = format_decimal(number)
    if unit in ("pcs", "pc", "piece", "pieces"):
        return ngettext("%(count)s piece", "%(count)s pieces", n, count=num)
    if unit in ("box", "boxes"):
        return ngettext("%(count)s box", "%(count)s boxes", n, count=num)
    if unit in ("bag", "bags"):
        return ngettext("%(count)s bag", "%(count)s bags", n, count=num)
    return None


CURRENCIES = ("KHR", "LAK", "MMK", "THB", "VND", "USD")


def format_money(value, currency: str | None) -> str:
    """An amount in a currency, with the currency's usual decimals (VND, LAK, MMK: none)."""
    if value is None:
        return ""
    if not currency:
        return format_number(value)
    return format_currency(value, currency.upper())


def init_app(app):
    """Register the formatting filters every template may use."""
    app.jinja_env.filters.update(
        when=format_when,
        day=format_day,
        clock=format_clock,
        ago=format_ago,
        duration=format_duration,
        since=format_since,
        number=format_number,
        qty=format_quantity,
        money=format_money,
    )
