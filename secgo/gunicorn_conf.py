"""gunicorn settings for SEC GO!: `gunicorn --config python:secgo.gunicorn_conf ...`.

(gunicorn.conf.py in the checkout imports them, for a gunicorn started there.)

Only a start-up check: rate limits kept in memory are counted by each worker on its own, so
with several workers the master says so, loudly, before any worker serves a request.
"""


def on_starting(server):
    """Log an error when several workers would each keep their own rate-limit counts."""
    from secgo.config import Config, per_process_storage_problem

    config = {key: getattr(Config, key) for key in dir(Config) if key.startswith("RATELIMIT_")}
    problem = per_process_storage_problem(config, server.cfg.workers)
    if problem:
        server.log.error(problem)
