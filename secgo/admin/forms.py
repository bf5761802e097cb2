"""Admin forms: they render the fields and their limits; secgo.admin.services checks them."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField

from ..config import LOCALES, TIMEZONES
from ..forms import FlaskForm, choices  # WTForms' messages in the page's language
from ..i18n import COUNTRY_LABELS, LANGUAGE_NAMES, ROLE_LABELS, TIMEZONE_LABELS
from ..idempotency import new_client_id
from ..limits import length
from ..models import COUNTRIES


def number(value) -> int:
    """A select's value as a number; 0 (nothing chosen) when it is not one: the service says why."""
    text = str(value if value is not None else "")
    return int(text) if text.isdecimal() and len(text) <= 10 else 0


def _countries():
    return choices((c, COUNTRY_LABELS[c]) for c in COUNTRIES)


class ClusterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[length("cluster_name")])
    country = SelectField(_l("Country"), choices=_countries(), validate_choice=False)
    province = StringField(_l("Province"), validators=[length("province")])
    product = StringField(_l("Product"), validators=[length("cluster_product")])
    coordinators = SelectMultipleField(_l("Coordinators"), coerce=number, validate_choice=False)
    client_id = HiddenField(default=new_client_id)


class OrganizationForm(FlaskForm):
    kind = SelectField(_l("Kind"), validate_choice=False, choices=choices(
        [("producer", _l("Producer")), ("customer", _l("Customer"))]))
    name = StringField(_l("Name"), validators=[length("org_name")])
    country = SelectField(_l("Country"), choices=_countries(), validate_choice=False)
    province = StringField(_l("Province"), validators=[length("province")])
    cluster = SelectField(_l("Cluster"), coerce=number, validate_choice=False)
    client_id = HiddenField(default=new_client_id)


class PersonForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[length("display_name")])
    role = SelectField(_l("Role"), validate_choice=False)
    organization = SelectField(_l("Organization"), coerce=number, validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False,
                         choices=choices((c, LANGUAGE_NAMES[c]) for c in LOCALES))
    timezone = SelectField(_l("Time zone"), validate_choice=False,
                           choices=choices((t, TIMEZONE_LABELS[t]) for t in TIMEZONES))
    email = StringField(_l("E-mail (optional)"), validators=[length("email")])
    phone = StringField(_l("Phone (optional)"), validators=[length("phone")])
    clusters = SelectMultipleField(_l("Clusters they coordinate"), coerce=number, validate_choice=False)
    client_id = HiddenField(default=new_client_id)

    def set_roles(self, roles):
        self.role.choices = choices((r, ROLE_LABELS[r]) for r in roles)


class ActionForm(FlaskForm):
    """Deactivate or reactivate: nothing but the request's id."""

    client_id = HiddenField(default=new_client_id)
