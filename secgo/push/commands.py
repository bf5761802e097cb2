"""Flask commands: vapid-keys and push-worker."""
import click
from flask import current_app
from flask.cli import with_appcontext

from .vapid import key_file, load_keys


@click.command("vapid-keys")
@with_appcontext
def vapid_keys_command():
    """Create the VAPID key pair once (instance folder, mode 0600) and print the public key."""
    existed = key_file().exists() or bool(current_app.config["VAPID_PRIVATE_KEY"])
    keys = load_keys()
    if current_app.config["VAPID_PRIVATE_KEY"]:
        click.echo("Using SECGO_VAPID_PRIVATE_KEY from the environment.")
    elif existed:
        click.echo(f"Keeping the existing key in {key_file()} (replacing it would end every subscription).")
    else:
        click.echo(f"Created {key_file()} (keep it secret, back it up).")
    click.echo(f"Public key (applicationServerKey): {keys.application_server_key}")


@click.command("push-worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Send everything due now, then exit (tests, cron).")
@click.option("--limit", default=100, show_default=True, help="Notifications per pass.")
def push_worker_command(once, limit):
    """Send queued notifications through Web Push (safe to run as several processes)."""
    import logging

    from .worker import PushWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    worker = PushWorker()
    if once:
        click.echo(f"Push worker: {worker.drain(limit=limit)}")
        return
    worker.run_forever()


def init_app(app):
    """Register the commands."""
    app.cli.add_command(vapid_keys_command)
    app.cli.add_command(push_worker_command)
