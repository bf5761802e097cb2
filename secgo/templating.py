"""Template helpers every page may use: where a photo and an order are served, text limits,
the quick phrases (secgo.phrases)."""
from flask import current_app, url_for

from .limits import LIMITS


def photo_url(attachment, thumb=False) -> str:
    """Where a photo (or its thumbnail) is served."""
    return url_for("attachments.thumb" if thumb else "attachments.photo", attachment_id=attachment.id)


def order_url(order) -> str | None:
    """The order's page, when the orders blueprint has one."""
    if "orders.detail" in current_app.view_functions:
        return url_for("orders.detail", reference=order.reference)
    return None


def init_app(app):
    """Give every template photo_url, order_url and the text limits (an input's maxlength is
    the limit the server checks); the formatting filters are in secgo.i18n."""
    from . import phrases

    app.jinja_env.globals.update(photo_url=photo_url, order_url=order_url, limits=LIMITS)
    phrases.init_app(app)
