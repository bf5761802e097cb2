"""gunicorn settings for SEC GO!: `gunicorn --config python:secgo.gunicorn_conf ...`.

(gunicorn.conf.py in the checkout imports them, for a gunicorn started there.)

- A start-up check: rate limits kept in memory are counted by each worker on its own, so
  with several workers the master says so, loudly, before any worker serves a request.
- Metrics from every worker: prometheus_client's multiprocess mode needs a folder, set in the
  environment before the workers start (they inherit it) and emptied at each start
  (https://prometheus.github.io/client_python/multiprocess/). An operator may set
  PROMETHEUS_MULTIPROC_DIR; otherwise each master makes its own temporary folder.
"""
import os
import shutil
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="secgo-metrics-")


def on_starting(server):
    """Empty the metrics folder; log an error when several workers would each keep their own
    rate-limit counts."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    from secgo.config import Config, per_process_storage_problem

    config = {key: getattr(Config, key) for key in dir(Config) if key.startswith("RATELIMIT_")}
    problem = per_process_storage_problem(config, server.cfg.workers)
    if problem:
        server.log.error(problem)


def child_exit(server, worker):
    """A worker that ended hands back its live gauges (prometheus_client's bookkeeping)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
