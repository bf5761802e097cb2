"""gunicorn settings read when gunicorn starts in the checkout; an install uses
`--config python:secgo.gunicorn_conf` (the same settings, from the package)."""
from secgo.gunicorn_conf import child_exit, on_starting  # noqa: F401
