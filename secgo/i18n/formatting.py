"""Dates, times, numbers, quantities and money in the viewer's language and time zone."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from babel.units import format_unit
from flask_babel import format_currency, format_date, format_datetime, format_decimal
from flask_babel import format_time, format_timedelta, get_locale, ngettext

from ..models import utcnow

# The viewer's language and time zone are chosen by the selectors in .locale.


def format_when(value: datetime | None, fmt: str = "medium") -> str:
    """Date and time of an aware datetime in the viewer's language and time zone."""
    return format_datetime(value, fmt) if value else ""


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date (a datetime is first moved to the viewer's time zone)."""
    return format_date(value, fmt) if value else ""


def format_clock(value: datetime | time | None, fmt: str = "short") -> str:
    """The time of day in the viewer's time zone."""
    return format_time(value, fmt) if value else ""


def format_ago(value: datetime | None) -> str:
    """Relative time ("3 hours ago", "in 2 days") in the viewer's language."""
    if not value:
        return ""
    return format_timedelta(value - utcnow(), add_direction=True, threshold=1.1)


def format_duration(value: timedelta | None) -> str:
    """A length of time in the viewer's language ("3 days")."""
    return format_timedelta(value, threshold=1.1) if value is not None else ""


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
        number=format_number,
        qty=format_quantity,
        money=format_money,
    )
