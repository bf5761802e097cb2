"""Flask commands: seed-demo, create-user."""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .extensions import db


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create demo clusters, organizations, people and orders (safe to run again)."""
    from .demo import seed_demo

    created = seed_demo()
    click.echo(f"Demo data ready ({created} new records). Password for every demo login: demo-password")


@click.command("create-user")
@with_appcontext
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["producer", "customer", "coordinator", "admin"]), required=True)
@click.option("--organization", "org_name", default=None, help="Organization name (producers, customers).")
@click.option("--cluster", "cluster_names", multiple=True, help="Cluster to coordinate (repeatable).")
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.option("--locale", type=click.Choice(["en", "km", "lo", "my", "th", "vi"]), default="en")
@click.option("--password", default=None, help="Omit to print a one-time invite link instead.")
def create_user_command(username, display_name, role, org_name, cluster_names, phone, email, locale, password):
    """Create an account for a real deployment; prints an invite link unless a password is given."""
    from .auth.services import create_user, issue_link
    from .errors import ApiError
    from .models import Cluster, Organization

    org = None
    if org_name:
        org = db.session.scalar(select(Organization).where(Organization.name == org_name))
        if org is None:
            raise click.ClickException(f"No organization named {org_name!r}")
    clusters = []
    for name in cluster_names:
        cluster = db.session.scalar(select(Cluster).where(Cluster.name == name))
        if cluster is None:
            raise click.ClickException(f"No cluster named {name!r}")
        clusters.append(cluster)
    try:
        user = create_user(
            username=username, display_name=display_name, role=role, organization=org,
            phone=phone, email=email, locale=locale, password=password, clusters=clusters,
        )
    except ApiError as err:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in err.fields.items())) from err
    if password:
        db.session.commit()
        click.echo(f"Created {user.username}.")
        return
    token = issue_link(user, "invite", None)
    db.session.commit()
    base = current_app.config.get("PUBLIC_URL", "http://127.0.0.1:5000")
    click.echo(f"Created {user.username}. Invite link (single use): {base}/invite/{token}")


def init_app(app):
    """Register the commands."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    from .push import commands as push_commands  # vapid-keys, push-worker

    push_commands.init_app(app)
