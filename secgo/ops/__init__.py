"""Running SEC GO! for years: backup and restore, request ids, JSON logs, metrics, readiness."""


def init_app(app):
    """Register the operator's commands, routes and request hooks."""
    from . import commands, observe

    commands.init_app(app)
    observe.init_app(app)
