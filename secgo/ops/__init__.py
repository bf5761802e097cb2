"""Running SEC GO! for years: backup and restore (and the operator's other tools)."""


def init_app(app):
    """Register the operator's commands."""
    from . import commands

    commands.init_app(app)
