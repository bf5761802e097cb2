"""Profile, enquiry and reply forms: CSRF, the request id and the limits; the services check."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField

from ..forms import FlaskForm
from ..idempotency import new_client_id
from ..limits import length


class _Outbox(FlaskForm):
    client_id = HiddenField(default=new_client_id)


class ProfileForm(_Outbox):
    """The edit page draws its rows itself (products, certifications); this carries CSRF."""


class EnquiryForm(_Outbox):
    product = StringField(_l("Product"), validators=[length("product")])
    quantity = StringField(_l("Quantity (optional)"), render_kw={"inputmode": "decimal"})
    unit = StringField(_l("Unit"), validators=[length("unit")])
    body = TextAreaField(_l("Your message"), validators=[length("body")], render_kw={"rows": 4})


class ReplyForm(_Outbox):
    body = TextAreaField(_l("Message"), validators=[length("body")], render_kw={"rows": 3})
