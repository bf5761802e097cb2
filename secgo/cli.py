"""Flask commands: seed-demo, create-user; cluster, org and user (the admin pages' services)."""
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
    for group in (cluster_group, user_group, org_group):  # the admin pages' services
        app.cli.add_command(group)
    from .push import commands as push_commands  # vapid-keys, push-worker

    push_commands.init_app(app)
    from .channels import commands as channel_commands  # telegram set-webhook

    channel_commands.init_app(app)


# --- clusters, organizations and people: the admin pages' services, from a shell ----------

def _refused(err) -> click.ClickException:
    """An ApiError as the shell shows it: its message and each field's."""
    parts = [f"{name}: {message}" for name, message in err.fields.items()]
    return click.ClickException("; ".join(parts) or str(err.to_dict()["error"]["message"]))


def _run(action, *args):
    """Call a service of secgo.admin.services as the shell's administrator and commit."""
    from .errors import ApiError

    try:
        result = action(*args)
    except ApiError as err:
        db.session.rollback()
        raise _refused(err) from err
    db.session.commit()
    return result


def _every_page(load):
    """Every item of a paged admin list: load(page number) -> Page."""
    number, pages = 1, 1
    while number <= pages:
        page = load(number)
        yield from page.items
        number, pages = number + 1, page.pages


def _cluster(name_or_id):
    from .admin import services
    from .errors import ApiError
    from .models import Cluster

    found = db.session.scalar(select(Cluster).where(Cluster.name == name_or_id))
    if found is None:
        try:
            found = services.get_cluster(name_or_id)
        except ApiError:
            raise click.ClickException(f"No cluster {name_or_id!r}") from None
    return found


def _coordinator_ids(usernames):
    from .admin import services

    ids = []
    for username in usernames:
        person = services.find_person(username)
        if person is None:
            raise click.ClickException(f"No user {username!r}")
        ids.append(person.id)
    return ids


@click.group("cluster")
def cluster_group():
    """Create, change and list clusters."""


@cluster_group.command("list")
@click.option("--search", "q", default="", help="Part of a name or product, in any script.")
@with_appcontext
def cluster_list(q):
    """List clusters with their coordinators."""
    from .admin import services

    for c in _every_page(lambda number: services.list_clusters(q, number)):
        names = ", ".join(u.username for u in c.coordinators) or "-"
        click.echo(f"{c.id}\t{c.name}\t{c.country}\t{c.province}\t{c.product}\t{names}")


@cluster_group.command("create")
@click.option("--name", required=True)
@click.option("--country", required=True, help="KH, LA, MM, TH or VN.")
@click.option("--province", default="")
@click.option("--product", required=True)
@click.option("--coordinator", "coordinators", multiple=True, help="Username (repeatable).")
@with_appcontext
def cluster_create(name, country, province, product, coordinators):
    """Create a cluster."""
    from .admin import services

    data = {"name": name, "country": country.upper(), "province": province, "product": product,
            "coordinators": _coordinator_ids(coordinators)}
    cluster = _run(services.save_cluster, None, data)
    click.echo(f"Created cluster {cluster.id}: {cluster.name}")


@cluster_group.command("edit")
@click.argument("cluster")
@click.option("--name")
@click.option("--country")
@click.option("--province")
@click.option("--product")
@click.option("--coordinator", "coordinators", multiple=True,
              help="Username (repeatable); replaces the coordinators.")
@click.option("--no-coordinators", is_flag=True, help="Remove every coordinator.")
@with_appcontext
def cluster_edit(cluster, name, country, province, product, coordinators, no_coordinators):
    """Change a cluster (named by its name or id); options left out keep their value."""
    from .admin import services

    found = _cluster(cluster)
    ids = [u.id for u in found.coordinators]
    if coordinators or no_coordinators:
        ids = _coordinator_ids(coordinators)
    data = {"name": found.name if name is None else name,
            "country": found.country if country is None else country.upper(),
            "province": found.province if province is None else province,
            "product": found.product if product is None else product, "coordinators": ids}
    saved = _run(services.save_cluster, found, data)
    click.echo(f"Saved cluster {saved.id}: {saved.name}")


@click.group("user")
def user_group():
    """Deactivate, reactivate and erase people."""


def _person(username):
    from .admin import services

    person = services.find_person(username)
    if person is None:
        raise click.ClickException(f"No user {username!r}")
    return person


@user_group.command("deactivate")
@click.argument("username")
@with_appcontext
def user_deactivate(username):
    """Deactivate someone: every sign-in and API token ends at once."""
    from .admin import services

    person = _run(services.deactivate_person, services.SHELL, _person(username))
    click.echo(f"Deactivated {person.username}: signed out everywhere, API tokens revoked.")


@user_group.command("reactivate")
@click.argument("username")
@with_appcontext
def user_reactivate(username):
    """Let someone sign in again."""
    from .admin import services

    person = _run(services.reactivate_person, services.SHELL, _person(username))
    click.echo(f"Reactivated {person.username}.")


@user_group.command("erase")
@click.argument("username")
@click.confirmation_option(prompt="Erase this person's account data for good?")
@with_appcontext
def user_erase(username):
    """Erase someone's personal data (their reports stay, by a former member)."""
    from .admin import services as admin
    from .privacy.services import erase_person

    person = _person(username)
    _run(erase_person, admin.SHELL, person)
    click.echo(f"Erased the personal data of {username} (now {person.username}).")


@click.group("org")
def org_group():
    """List, deactivate and reactivate organizations."""


def _org(org_id):
    from .admin import services

    return services.get_organization(services.SHELL, org_id)


@org_group.command("list")
@click.option("--search", "q", default="", help="Part of a name, in any script.")
@with_appcontext
def org_list(q):
    """List organizations (id, kind, country, cluster, active)."""
    from .admin import services

    for o in _every_page(lambda number: services.list_organizations(services.SHELL, q, number)):
        state = "active" if o.active else "deactivated"
        cluster = o.cluster.name if o.cluster else "-"
        click.echo(f"{o.id}\t{o.name}\t{o.kind}\t{o.country}\t{cluster}\t{state}")


@org_group.command("deactivate")
@click.argument("org_id")
@with_appcontext
def org_deactivate(org_id):
    """Deactivate an organization and all its people (its history stays)."""
    from .admin import services

    org = _run(lambda: services.deactivate_organization(services.SHELL, _org(org_id)))
    click.echo(f"Deactivated organization {org.id}: {org.name}, and its people.")


@org_group.command("reactivate")
@click.argument("org_id")
@with_appcontext
def org_reactivate(org_id):
    """Reactivate an organization (its people stay deactivated until reactivated one by one)."""
    from .admin import services

    org = _run(lambda: services.reactivate_organization(services.SHELL, _org(org_id)))
    click.echo(f"Reactivated organization {org.id}: {org.name}.")
