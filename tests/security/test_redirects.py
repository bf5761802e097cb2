"""Open redirects: `next` after a login or a language change leads to a same-site path only.

Each vector is sent exactly as an attacker would put it in a URL or a form body (percent-
encoded or raw). A browser drops tab, CR and LF from a Location and reads "\\" as "/", so
`/%09/evil.example` used to reach the browser as `//evil.example`; CR or LF gave a 500.
"""
from urllib.parse import urlsplit

import pytest

from tests.factories import PASSWORD

NO_CSRF = [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}]
pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)

# Query-string / form-body encodings of `next` that must not be followed.
OFF_SITE = [
    "//evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/%0D%0ALocation:%20https://evil.example",
    "%09//evil.example",
    "/%09%09/evil.example",
    "/\t/evil.example",  # raw tab in the body or query
    "/%2F/evil.example",
    "/%252F/evil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "/%5C%09/evil.example",
    "/%255Cevil.example",
    "/%2509/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "HtTpS://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt%3Aalert(1)",
    "%20javascript:alert(1)",
    "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "%20//evil.example",
    "/%E2%80%AE/evil.example",  # right-to-left override (invisible format character)
    "/%E2%80%8B/evil.example",  # zero-width space
    "/%C2%85/evil.example",  # NEL, a C1 control
    "/%E2%80%A8/evil.example",  # line separator
    "%EF%BC%8F%EF%BC%8Fevil.example",  # fullwidth solidus twice
    "evil.example",
    "/" + "a" * 5000,
]
# Same-site paths that are still followed as they are.
SAME_SITE = [("/orders?q=rice", "/orders?q=rice"), ("/issues", "/issues"),
             ("/orders/SEC-WRLD01", "/orders/SEC-WRLD01")]


def browser_reads_as_same_site(location: str) -> bool:
    """True when a browser would stay on this site: it strips tab/CR/LF and reads "\\" as "/"."""
    seen = location.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/").lstrip()
    parts = urlsplit(seen)
    return (not parts.scheme and not parts.netloc and seen.startswith("/")
            and not seen.startswith("//"))


def assert_same_site_or_default(answer, vector, expected="/"):
    assert answer.status_code < 500, (vector, answer.status_code)
    assert answer.status_code in (302, 303), (vector, answer.status_code)
    location = answer.headers["Location"]
    assert browser_reads_as_same_site(location), (vector, location)
    assert location == expected, (vector, location)


def login_with_next(client, raw_next):
    return client.post("/login", query_string=f"next={raw_next}",
                       data={"login": "customer", "password": PASSWORD})


def language_with_next(client, raw_next):
    return client.post("/language", data=f"lang=th&next={raw_next}",
                       content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("switch", [login_with_next, language_with_next], ids=["login", "language"])
@pytest.mark.parametrize("vector", OFF_SITE)
def test_next_after_login_or_language_switch_cannot_lead_off_site(app, client, world, switch, vector):
    assert_same_site_or_default(switch(client, vector), vector)


@pytest.mark.parametrize("switch", [login_with_next, language_with_next], ids=["login", "language"])
def test_next_to_a_same_site_path_is_still_followed(app, world, switch):
    for vector, expected in SAME_SITE:
        raw = vector.replace("?", "%3F").replace("=", "%3D")
        assert_same_site_or_default(switch(app.test_client(), raw), vector, expected)
