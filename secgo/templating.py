"""Template helpers every page may use: where a photo and an order are served, text limits,
the quick phrases (secgo.phrases)."""
from collections import ChainMap
from types import FunctionType

from flask import current_app, url_for
from flask.templating import Environment as FlaskEnvironment
from jinja2.bccache import BytecodeCache
from jinja2.runtime import Context, Macro
from jinja2.utils import _PassArg

from .limits import LIMITS


class TemplateGlobals(ChainMap):
    """A template's globals: Jinja's ChainMap of its own over the environment's, whose keys()
    is a set. On every `{% from ... import ... %}` Jinja takes the importing page's global
    names minus the imported template's (Template._get_default_module), and against
    ChainMap's KeysView that difference is worked out in Python a name at a time: 40 µs an
    import, 15 imports an order page. A set of the names is the same answer, in C."""

    def keys(self):
        return set().union(*self.maps)


_PLAIN_CALLABLES = (FunctionType, Macro)


class TemplateContext(Context):
    """Jinja's Context, whose call() (every call a template makes: a macro, `_()`, url_for)
    goes the short way for a macro or a plain function that takes no context: Jinja's own
    looks for a marked `__call__` and the mark three times on each, hundreds of times a page.
    The same outcome: a function marked pass_context (or anything else) goes Jinja's way."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's names (runtime.Context.call)
        if type(__obj) in _PLAIN_CALLABLES:
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
            if pass_arg is None or pass_arg is _PassArg.eval_context:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
                if pass_arg is not None:
                    args = (__self.eval_ctx, *args)
                try:
                    return __obj(*args, **kwargs)
                except StopIteration:
                    return __self.environment.undefined(
                        "value was undefined because a callable raised a StopIteration exception")
        return super().call(__obj, *args, **kwargs)


class Environment(FlaskEnvironment):
    """Flask's Jinja environment whose templates' globals are TemplateGlobals and whose
    context is TemplateContext."""

    context_class = TemplateContext

    def make_globals(self, d):
        return TemplateGlobals({} if d is None else d, self.globals)


def _compiling_settings(env) -> tuple:
    """What in an environment changes the code a template compiles to."""
    return (env.block_start_string, env.block_end_string, env.variable_start_string,
            env.variable_end_string, env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
            env.newline_sequence, env.keep_trailing_newline, tuple(sorted(env.extensions)),
            env.optimized, env.autoescape if isinstance(env.autoescape, bool) else "chosen by name",
            env.finalize is not None, env.is_async)


class ProcessTemplates(BytecodeCache):
    """Compiled templates shared by every app one process makes (TEMPLATES_SHARED_IN_PROCESS,
    on in the test suite, which makes a new app for each test: each compiled the same templates
    again, some 13 ms a template). Jinja keeps each template's source checksum with its code
    and compiles again when the file changed; the key holds the environment's settings that
    change what compiling gives. A server makes one app per process and has no use for it."""

    def __init__(self):
        self._kept: dict = {}

    def load_bytecode(self, bucket):
        code = self._kept.get((bucket.key, _compiling_settings(bucket.environment)))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._kept[(bucket.key, _compiling_settings(bucket.environment))] = bucket.bytecode_to_string()


PROCESS_TEMPLATES = ProcessTemplates()


def photo_url(attachment, thumb=False) -> str:
    """Where a photo (or its thumbnail) is served."""
    return url_for("attachments.thumb" if thumb else "attachments.photo", attachment_id=attachment.id)


def data_saver() -> bool:
    """Photos go first as small previews (secgo.attachments.saver): the person chose it in
    Settings, or the browser asks (`Save-Data: on`; its script also reads saveData itself)."""
    from flask import request
    from flask_login import current_user

    if current_user and current_user.is_authenticated and getattr(current_user, "data_saver", False):
        return True
    return request.headers.get("Save-Data", "").strip().lower() == "on"


def signed_in_user():
    """The signed-in user or None, for macros imported without the page's context."""
    from flask_login import current_user

    return current_user if current_user and current_user.is_authenticated else None


def order_url(order) -> str | None:
    """The order's page, when the orders blueprint has one."""
    if "orders.detail" in current_app.view_functions:
        return url_for("orders.detail", reference=order.reference)
    return None


def init_app(app):
    """Give every template photo_url, order_url and the text limits (an input's maxlength is
    the limit the server checks); the formatting filters are in secgo.i18n."""
    from . import phrases

    if app.config.get("TEMPLATES_SHARED_IN_PROCESS"):
        app.jinja_env.bytecode_cache = PROCESS_TEMPLATES  # (before any template is loaded)
    app.jinja_env.globals.update(photo_url=photo_url, order_url=order_url, limits=LIMITS,
                                 data_saver=data_saver, signed_in_user=signed_in_user)
    phrases.init_app(app)
