"""Form helpers shared by every blueprint: the base form and SelectField choices."""
import flask_wtf
from wtforms import SelectChoice

from .i18n import request_translations


class _CatalogTranslations:
    """WTForms' own messages ("This field is required.") from our catalogs.

    WTForms ships translations for none of km, lo, my, th and vi, so Flask-WTF's own lookup
    (WTF_I18N_ENABLED, WTForms' "wtforms" domain) would leave them in English. Their msgids are
    in our catalogs through secgo/i18n/wtforms_messages.py.
    """

    def gettext(self, string):
        """The message in the request's language."""
        return request_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        """The message's plural form for n in the request's language."""
        return request_translations().ungettext(singular, plural, n)


TRANSLATIONS = _CatalogTranslations()


class FlaskForm(flask_wtf.FlaskForm):
    """Every form of the app: Flask-WTF's, with every validator message in the page's language."""

    class Meta(flask_wtf.FlaskForm.Meta):
        def get_translations(self, form):
            """Our catalogs (see _CatalogTranslations)."""
            return TRANSLATIONS


def choices(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
