"""The orders list is served again from the page cache, and never shows stale data."""
import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import Organization, StatusUpdate
from tests.test_orders import count_queries, make_order, post_update

pytestmark = pytest.mark.parametrize(
    "app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)


def _orders(client) -> str:
    response = client.get("/orders")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_orders_list_seen_again_is_not_rendered_again(app, world, client, auth):
    make_order(app, world, product="Keo Romeat mango")
    auth.login("producer")
    rendered = count_queries(app, client, "/orders")
    first = _orders(client)
    again = count_queries(app, client, "/orders")
    assert "Keo Romeat mango" in first
    assert again < rendered, (again, rendered)
    assert again <= 3  # the session's user and the data version (and BEGIN on SQLite)
    assert _orders(client) == first


def test_a_new_order_and_an_update_show_at_once(app, world, client, auth):
    ref = make_order(app, world, product="Silk scarf")
    auth.login("producer")
    assert "Silk scarf" in _orders(client)
    make_order(app, world, product="Rattan basket")  # by the service, as another session would
    assert "Rattan basket" in _orders(client)
    assert post_update(client, ref, "dispatched", "Truck left").status_code == 303
    assert "Dispatched" in _orders(client)


def test_the_customers_confirmation_changes_the_producers_list(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "ready", "Packed")
    auth.logout()
    auth.login("customer")
    waiting = _orders(client)
    with app.app_context():
        update_id = db.session.scalar(select(StatusUpdate.id).where(StatusUpdate.status == "ready"))
    assert client.post(f"/orders/{ref}/updates/{update_id}/confirm", data={}).status_code == 303
    assert _orders(client) != waiting  # the "awaiting your confirmation" mark is gone


def test_a_renamed_customer_shows_in_every_producers_list(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    assert "Bangkok Buyer" in _orders(client)
    with app.app_context():
        db.session.get(Organization, world.orgs["buyer"]).name = "Bangkok Fresh Market"
        db.session.commit()
    assert "Bangkok Fresh Market" in _orders(client)


def test_another_user_never_gets_my_cached_list(app, world, client, auth):
    make_order(app, world, product="Organic jasmine rice")
    make_order(app, world, product="Ikat silk", producer="weaver")
    auth.login("producer")
    mine = _orders(client)
    auth.logout()
    auth.login("other_producer")
    theirs = _orders(client)
    assert "Organic jasmine rice" in mine and "Ikat silk" not in mine
    assert "Ikat silk" in theirs and "Organic jasmine rice" not in theirs


def test_a_language_change_shows_the_list_in_the_new_language(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    assert '<html lang="en"' in _orders(client)
    with app.app_context():
        from secgo.models import User

        db.session.get(User, world.users["producer"]).locale = "th"
        db.session.commit()
    assert '<html lang="th"' in _orders(client)


def test_the_cache_can_be_turned_off(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    _orders(client)
    hit = count_queries(app, client, "/orders")
    app.config["PAGE_CACHE"] = False
    assert count_queries(app, client, "/orders") == count_queries(app, client, "/orders") > hit


def test_a_deactivated_account_is_not_shown_its_kept_list(app, world, client, auth):
    from secgo.models import User

    make_order(app, world)
    auth.login("producer")
    _orders(client)
    _orders(client)
    with app.app_context():
        db.session.get(User, world.users["producer"]).active = False
        db.session.commit()
    response = client.get("/orders")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_elsewhere_ends_this_session_even_for_a_kept_list(app, world, client, auth):
    from secgo.models import User

    make_order(app, world)
    auth.login("producer")
    _orders(client)
    with app.app_context():
        from secgo.auth import services

        services.change_password(db.session.get(User, world.users["producer"]), "another long password")
        db.session.commit()
    assert client.get("/orders").status_code == 302


def test_a_browser_revalidating_the_list_gets_304_without_the_page(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    first = client.get("/orders", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    again = client.get("/orders", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    make_order(app, world, product="Rattan basket")
    changed = client.get("/orders", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_forged_session_cookie_is_never_answered_from_the_cache(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    _orders(client)
    cookie = client.get_cookie("secgo_session")
    client.set_cookie("secgo_session", cookie.value[:-3] + "AAA")
    client.delete_cookie("remember_token")
    assert client.get("/orders").status_code == 302


def test_a_new_display_name_or_role_shows_at_once(app, world, client, auth):
    from secgo.models import User

    make_order(app, world)
    auth.login("producer")
    _orders(client)
    with app.app_context():
        db.session.get(User, world.users["producer"]).display_name = "Sokha Chan"
        db.session.commit()
    assert "Sokha Chan" in _orders(client)
