from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm, choices
from ..idempotency import new_client_id
from ..config import LOCALES, TIMEZONES
from ..i18n import COUNTRY_LABELS, LANGUAGE_NAMES, ROLE_LABELS, TIMEZONE_LABELS
from ..limits import length
from ..models import COUNTRIES


class InviteForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), length("display_name")])
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3), length("username")])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), length("phone")])
    email = StringField(_l("E-mail (optional)"), validators=[Optional(), length("email")])
    role = SelectField(_l("Role"))
    organization = SelectField(_l("Organization"), coerce=int, validate_choice=False)
    locale = SelectField(_l("Language"), choices=choices(((c, LANGUAGE_NAMES[c])) for c in LOCALES))
    timezone = SelectField(_l("Time zone"), choices=choices(((t, TIMEZONE_LABELS[t])) for t in TIMEZONES))
    clusters = SelectMultipleField(_l("Clusters they coordinate"), coerce=int, validate_choice=False)

    def set_roles(self, roles):
        self.role.choices = choices((r, ROLE_LABELS[r]) for r in roles)


class OrganizationForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=choices([("producer", _l("Producer")), ("customer", _l("Customer"))])
    )
    name = StringField(_l("Name"), validators=[DataRequired(), length("org_name")])
    country = SelectField(_l("Country"), choices=choices(((c, COUNTRY_LABELS[c])) for c in COUNTRIES))
    province = StringField(_l("Province"), validators=[Optional(), length("province")])
    cluster = SelectField(_l("Cluster"), coerce=int, validate_choice=False)
    client_id = HiddenField(default=new_client_id)
