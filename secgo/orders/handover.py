"""Proof at handover: the receiver's name, and a drawn signature or the order's handover code.

The code is six random digits per order, shown only to the producer side (producer,
coordinator, admin: orders.services.PRODUCER_SIDES) on its order page and in the API; the
receiver types it. Wrong codes are counted per order in the rate limiter's shared store (Redis
in production), never in a process's memory and never in the write's own transaction (a
refused write is rolled back, its wrong guess must still count): a few wrong codes lock the
code for a while, and the receiver can sign instead.
"""
import hmac
import secrets
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse
from sqlalchemy import update

from ..errors import ApiError
from ..extensions import db, limiter
from ..security import write_intent
from ..limits import clean_text
from ..models import Order

PROOFS = ("signature", "code")
CODE_DIGITS = 6
# Wrong codes per order before the code is locked; with a million codes a guesser has no chance.
HANDOVER_CODE_LIMIT = "5 per hour"
WRONG_CODE = _l("This is not the handover code of this order. Ask the driver or the producer "
                "for it.")
CODE_LOCKED = _l("Too many wrong codes for this order. Try again in an hour, or sign on the "
                 "screen instead.")
NO_SIGNATURE = _l("Sign in the box first.")
NO_CODE = _l("Type the 6-digit handover code.")
NAME_NEEDED = _l("Write the name of the person who received the goods.")


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_for(order: Order) -> str:
    """The order's handover code, made on first need. Two requests at once agree: only the
    first write of an empty code counts, and both read it back."""
    if order.handover_code is None:  # an order made before codes (new orders get one made)
        # Often read by a page (a GET): end its read transaction, and write in one that takes
        # the write lock first, or SQLite refuses the write when anyone wrote since the page began.
        intent = write_intent.set(True)
        try:
            db.session.commit()
            db.session.execute(update(Order).where(Order.id == order.id, Order.handover_code.is_(None))
                               .values(handover_code=new_code()))
            db.session.commit()
        finally:
            write_intent.reset(intent)
        db.session.refresh(order, ["handover_code"])
    return order.handover_code


def read_code(actor, order: Order) -> str:
    """The code for the producer side; 403 for the customer side (it types it, never reads it)."""
    from .services import PRODUCER_SIDES, side_of

    if side_of(actor, order) not in PRODUCER_SIDES:
        raise ApiError(403, _l("Only the producer's side sees the handover code."))
    return code_for(order)


def read_proof(data: dict, signature) -> dict:
    """The proof fields of a delivery: {"proof": None | "signature" | "code", "receiver_name"}.
    No proof is allowed (API clients of before); a proof needs the receiver's name."""
    fields: dict = {}
    proof = data.get("proof") or None
    if proof is None and signature is not None:
        proof = "signature"
    if proof is not None and proof not in PROOFS:
        fields["proof"] = _l("Choose how the receiver proves the handover.")
    name = clean_text(data.get("receiver_name"), "receiver_name", fields,
                      required=NAME_NEEDED if proof else False)
    if proof == "signature" and signature is None:
        fields["signature"] = NO_SIGNATURE
    if proof == "code":
        typed = data.get("handover_code")
        if not isinstance(typed, str) or not typed.strip():
            fields["handover_code"] = NO_CODE
    if fields:
        raise ApiError(422, fields=fields)
    return {"proof": proof, "receiver_name": str(name) or None}


def _bucket():
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return parse(HANDOVER_CODE_LIMIT), prefix


def check_code(order: Order, typed) -> None:
    """Refuse a wrong code (422) and a locked one (429). Each try takes its place in the
    order's bucket before the code is compared (an atomic increment: parallel guesses cannot
    slip past the limit); a right code gives its place back."""
    # Typed as the phone's keyboard gives it: Khmer, Lao, Myanmar or Thai digits read as 0-9.
    digits = "".join(str(unicodedata.digit(ch, ch)) for ch in str(typed or "") if not ch.isspace())
    item, prefix = _bucket()
    counted = current_app.config.get("RATELIMIT_ENABLED", True)
    if counted and not limiter.limiter.hit(item, prefix, "handover-code", str(order.id)):
        raise ApiError(429, CODE_LOCKED, fields={"handover_code": CODE_LOCKED},
                       code="handover_code_locked", retry_after=3600)
    right = order.handover_code
    if right is None or not hmac.compare_digest(digits.encode(), right.encode()):
        raise ApiError(422, WRONG_CODE, fields={"handover_code": WRONG_CODE},
                       code="wrong_handover_code")
    if counted:
        limiter.limiter.storage.incr(item.key_for(prefix, "handover-code", str(order.id)),
                                     item.get_expiry(), amount=-1)
