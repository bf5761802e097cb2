"""One-tap share of an order: the words in the sharer's language, built once on the server."""
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from secgo.extensions import db
from secgo.models import User
from tests.issue_factories import make_order


def share_box(html: str) -> dict:
    box = re.search(r"<details class=\"share\"(.*?)</details>", html, re.S)
    assert box, "no Share box"
    attrs = dict(re.findall(r'data-(title|text|url)="([^"]*)"', box.group(1)))
    links = dict(re.findall(r'href="([^"]+)"[^>]*>(LINE|WhatsApp|Telegram)<', box.group(1)))
    return {**{k: unescape(v) for k, v in attrs.items()},
            "links": {name: unescape(href) for href, name in links.items()}, "html": box.group(1)}


def test_the_order_page_shares_reference_product_status_and_link_in_the_sharers_language(app, world, client, auth):
    with app.app_context():
        make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q", product="Jasmine rice",
                   status="at_border")
        db.session.get(User, world.users["customer"]).locale = "th"
        db.session.commit()
    auth.login("customer")
    box = share_box(client.get("/orders/SEC-7K3F9Q").get_data(as_text=True))
    assert "SEC-7K3F9Q" in box["text"] and "Jasmine rice" in box["text"]
    assert "ที่ชายแดน" in box["text"] or "ด่าน" in box["text"]  # "At border", in Thai
    assert box["url"] == "http://localhost/orders/SEC-7K3F9Q"
    line, whatsapp, telegram = (urlsplit(box["links"][n]) for n in ("LINE", "WhatsApp", "Telegram"))
    assert (line.netloc, line.path) == ("line.me", "/R/share")
    assert parse_qs(line.query) == {"text": [f"{box['text']}\n{box['url']}"]}
    assert (whatsapp.netloc, whatsapp.path) == ("wa.me", "/")
    assert parse_qs(whatsapp.query) == {"text": [f"{box['text']}\n{box['url']}"]}
    assert (telegram.netloc, telegram.path) == ("t.me", "/share/url")
    assert parse_qs(telegram.query) == {"url": [box["url"]], "text": [box["text"]]}


def test_the_tracking_page_shares_its_own_link(app, world, client, auth):
    with app.app_context():
        make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q", product="Jasmine rice")
        db.session.commit()
    auth.login("producer")
    page = client.post("/orders/SEC-7K3F9Q/links", data={"contact_name": "Warehouse clerk",
                                                          "csrf_token": auth.csrf("/orders/SEC-7K3F9Q/links")})
    html = page.get_data(as_text=True)
    assert page.status_code == 201, html[-2000:]
    url = unescape(re.search(r'data-url="([^"]+)"', html).group(1))
    assert "/t/" in url and "Order SEC-7K3F9Q (Jasmine rice" in html
    client.post("/logout", data={"csrf_token": auth.csrf("/offline")})
    box = share_box(client.get(urlsplit(url).path).get_data(as_text=True))
    assert box["url"] == url
    assert parse_qs(urlsplit(box["links"]["LINE"]).query) == {"text": [f"{box['text']}\n{url}"]}


def test_pages_without_a_share_box_load_no_share_script(app, world, client, auth):
    auth.login("customer")
    for path in ("/orders", "/issues", "/settings"):
        assert "share.js" not in client.get(path).get_data(as_text=True), path
