"""Flask commands: backup, restore and audit-prune."""
import click
from flask.cli import with_appcontext

from .backup import BackupError, create_backup, restore_backup, verify_backup


def _summary(manifest: dict) -> str:
    counts = manifest.get("row_counts", {})
    uploads = sum(1 for name in manifest["files"] if name.startswith("uploads/"))
    return (f"{manifest['engine']} database of {manifest['created_at']} "
            f"(schema {manifest.get('schema_revision') or 'unversioned'}): "
            f"{counts.get('orders', 0)} orders, {counts.get('status_updates', 0)} status updates, "
            f"{counts.get('users', 0)} people; {uploads} uploaded files")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=True, dir_okay=True, writable=True))
@with_appcontext
def backup_command(dest):
    """Write one consistent backup (database, uploads, keys, manifest) to DEST (a .tar file, or a folder)."""
    try:
        path, manifest = create_backup(dest)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Backed up to {path}: {_summary(manifest)}")


@click.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--verify-only", is_flag=True, help="Check the backup completely; restore nothing.")
@with_appcontext
def restore_command(src, verify_only):
    """Restore a backup into an empty database and upload folder (all or nothing)."""
    try:
        manifest = verify_backup(src) if verify_only else restore_backup(src)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(("Backup is complete and intact: " if verify_only else "Restored ") + _summary(manifest))


@click.command("audit-prune")
@with_appcontext
def audit_prune_command():
    """Forget account events older than SECGO_AUDIT_RETENTION_DAYS (run it daily)."""
    from flask import current_app

    from ..audit.services import prune
    from ..extensions import db

    gone = prune()
    db.session.commit()
    click.echo(f"Forgot {gone} account events older than {current_app.config['AUDIT_RETENTION_DAYS']} days.")


def init_app(app):
    """Register the commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(audit_prune_command)
