"""Matching forms: they render the fields and their limits; secgo.matching.services checks them."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField

from ..admin.forms import number
from ..forms import FlaskForm
from ..idempotency import new_client_id
from ..limits import length


class EventForm(FlaskForm):
    name = StringField(_l("Name"), validators=[length("event_name")])
    held_on = StringField(_l("Day of the event"), render_kw={"type": "date"})
    place = StringField(_l("Place"), validators=[length("place")])
    producers = SelectMultipleField(_l("Producers who took part"), coerce=number, validate_choice=False)
    buyers = SelectMultipleField(_l("Buyers who took part"), coerce=number, validate_choice=False)
    client_id = HiddenField(default=new_client_id)


class MatchForm(FlaskForm):
    buyer_org_id = SelectField(_l("Buyer"), coerce=number, validate_choice=False)
    producer_org_id = SelectField(_l("Producer"), coerce=number, validate_choice=False)
    products = StringField(_l("Products of interest"), validators=[length("products")])
    note = TextAreaField(_l("Note (optional)"), validators=[length("note")])
    client_id = HiddenField(default=new_client_id)


class StageForm(FlaskForm):
    stage = SelectField(_l("New stage"), validate_choice=False)
    on = StringField(_l("Day of this step"), render_kw={"type": "date"})
    reason = TextAreaField(_l("Why it is no longer pursued"), validators=[length("reason")])
    client_id = HiddenField(default=new_client_id)
