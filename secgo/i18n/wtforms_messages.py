"""WTForms' built-in messages, marked here so that `make translations` puts them in our catalogs.

WTForms has no translations for km, lo, my, th or vi; secgo.forms.FlaskForm reads these from
our catalogs instead. The msgids are WTForms' own, word for word (tests check them against
WTForms' template), so a validator's message finds its translation.
"""


def N_(msgid: str) -> str:  # noqa: N802 - the gettext marker's usual name
    """Marks a message for extraction; it is translated where WTForms asks for it."""
    return msgid


def ngettext(singular: str, plural: str, _n: int = 2) -> tuple[str, str]:
    """Marks a message with a plural for extraction (pybabel reads this name's two msgids)."""
    return singular, plural


MESSAGES = (
    N_("This field is required."),
    N_("Invalid input."),
    N_("Field must be equal to %(other_name)s."),
    ngettext("Field must be at least %(min)d character long.",
             "Field must be at least %(min)d characters long."),
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters."),
    ngettext("Field must be exactly %(max)d character long.",
             "Field must be exactly %(max)d characters long."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid email address."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    ngettext("'%(value)s' is not a valid choice for this field.",
             "'%(value)s' are not valid choices for this field."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
    N_("Not a valid date value."),
    N_("Not a valid datetime value."),
)
