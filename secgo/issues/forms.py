"""Issue forms: the fields, CSRF, and the services' own limits and messages (refused early)."""
from flask_babel import lazy_gettext as _l
from wtforms import FileField, HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf

from ..forms import FlaskForm, choices
from ..i18n import CATEGORY_LABELS, SEVERITY_LABELS
from ..idempotency import new_client_id
from ..limits import length
from ..models import CATEGORIES, SEVERITIES
from .services import CHOOSE_CATEGORY, CHOOSE_SEVERITY


class _Outbox(FlaskForm):
    client_id = HiddenField(default=new_client_id)


class RaiseIssueForm(_Outbox):
    category = SelectField(
        _l("What kind of problem?"), choices=choices(CATEGORY_LABELS.items()), validate_choice=False,
        validators=[AnyOf(CATEGORIES, message=CHOOSE_CATEGORY)],
    )
    severity = SelectField(
        _l("How serious?"), choices=choices(SEVERITY_LABELS.items()), default="medium",
        validate_choice=False, validators=[AnyOf(SEVERITIES, message=CHOOSE_SEVERITY)],
    )
    title = StringField(_l("Title"), validators=[length("title")])
    description = TextAreaField(_l("What happened?"), validators=[length("description")])
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/*"})
    voice = FileField()  # drawn by _voice.html's voice_input; here for its errors


class CommentForm(_Outbox):
    body = TextAreaField(_l("Message"), validators=[length("body")], render_kw={"rows": 3})
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/*"})
    voice = FileField()  # drawn by _voice.html's voice_input; here for its errors


