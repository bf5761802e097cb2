from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import FlaskForm, choices
from ..config import LOCALES, TIMEZONES
from ..i18n import LANGUAGE_NAMES, TIMEZONE_LABELS
from ..limits import LIMITS, length

PASSWORD_MIN = 10


class LoginForm(FlaskForm):
    login = StringField(
        _l("Phone, e-mail or username"), validators=[DataRequired(), length("login")]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), length("password")])
    remember = BooleanField(_l("Keep me logged in on this device"), default=True)


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=PASSWORD_MIN, max=LIMITS["password"],
                   message=_l("Use %(min)d to %(max)d characters.", min=PASSWORD_MIN, max=LIMITS["password"])),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class SettingsForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), length("display_name")])
    locale = SelectField(
        _l("Language"), choices=choices(((code, LANGUAGE_NAMES[code])) for code in LOCALES)
    )
    timezone = SelectField(_l("Time zone"), choices=choices(((tz, TIMEZONE_LABELS[tz])) for tz in TIMEZONES))


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), length("password")])


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), length("token_name")])
