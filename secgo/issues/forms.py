"""Issue forms. Rules live in services; these only carry the fields (and CSRF)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField

from ..forms import choices
from ..i18n import CATEGORY_LABELS, SEVERITY_LABELS
from ..idempotency import new_client_id
from .services import TEXT_MAX, TITLE_MAX


class _Outbox(FlaskForm):
    client_id = HiddenField(default=new_client_id)


class RaiseIssueForm(_Outbox):
    category = SelectField(
        _l("What kind of problem?"), choices=choices(CATEGORY_LABELS.items()), validate_choice=False
    )
    severity = SelectField(
        _l("How serious?"), choices=choices(SEVERITY_LABELS.items()), default="medium",
        validate_choice=False,
    )
    title = StringField(_l("Title"), render_kw={"maxlength": TITLE_MAX})
    description = TextAreaField(_l("What happened?"), render_kw={"maxlength": TEXT_MAX})
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/*"})


class CommentForm(_Outbox):
    body = TextAreaField(_l("Message"), render_kw={"maxlength": TEXT_MAX, "rows": 3})
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/*"})


