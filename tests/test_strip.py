"""The SSL-stripping rewrites, as plain functions."""

import pytest

from labapp import strip


@pytest.mark.parametrize(
    "text, expected, hosts",
    [
        pytest.param(
            '<a href="https://bank.test/login">',
            '<a href="http://bank.test/login">',
            {"bank.test"},
            id="link",
        ),
        pytest.param(
            '<form action="HTTPS://Bank.Test/pay">',
            '<form action="http://Bank.Test/pay">',
            {"bank.test"},
            id="scheme-and-host-in-capitals",
        ),
        pytest.param(
            "https://bank.test:443/ https://static.bank.test/app.js",
            "http://bank.test/ http://static.bank.test/app.js",
            {"bank.test", "static.bank.test"},
            id="default-port-dropped",
        ),
        pytest.param(
            "https://bank.test:8443/x",
            "http://bank.test:8443/x",
            {"bank.test"},
            id="other-port-kept",
        ),
        pytest.param(
            '{"next": "https:\\/\\/bank.test\\/account"}',
            '{"next": "http:\\/\\/bank.test\\/account"}',
            {"bank.test"},
            id="json-escaped-slashes",
        ),
        pytest.param(
            'location = "https://" + location.host;',
            'location = "http://" + location.host;',
            set(),
            id="script-building-a-url",
        ),
        pytest.param(
            "url(https://[::1]:443/a.png)",
            "url(http://[::1]/a.png)",
            {"[::1]"},
            id="ipv6-literal",
        ),
        pytest.param(
            "git+https://bank.test/repo http://bank.test/",
            "git+https://bank.test/repo http://bank.test/",
            set(),
            id="other-schemes-untouched",
        ),
    ],
)
def test_strip_urls_downgrades_every_https_url(text, expected, hosts):
    assert strip.strip_urls(text) == (expected, hosts)


@pytest.mark.parametrize(
    "location, expected",
    [
        pytest.param("https://bank.test:443/", "http://bank.test/", id="F13"),
        pytest.param("https://bank.test:443", "http://bank.test", id="no-path"),
        pytest.param(
            "HTTPS://bank.test/a?next=https://bank.test/b",
            "http://bank.test/a?next=https://bank.test/b",
            id="only-the-target",
        ),
        pytest.param("https://bank.test:8443/", "http://bank.test:8443/", id="port"),
        pytest.param("/login?next=/account", "/login?next=/account", id="relative"),
        pytest.param("//bank.test/x", "//bank.test/x", id="scheme-relative"),
        pytest.param("http://bank.test/", "http://bank.test/", id="already-http"),
    ],
)
def test_strip_location(location, expected):
    assert strip.strip_location(location) == expected


@pytest.mark.parametrize(
    "cookie, expected",
    [
        pytest.param("sid=1; Secure; HttpOnly", "sid=1; HttpOnly", id="secure"),
        pytest.param("sid=1;secure;Path=/", "sid=1;Path=/", id="no-spaces"),
        pytest.param("sid=1; SECURE ;", "sid=1", id="capitals-trailing-semicolon"),
        pytest.param("sid=1; Secure=yes", "sid=1", id="secure-with-a-value"),
        pytest.param(
            "sid=1; SameSite=None; Secure", "sid=1; SameSite=Lax", id="F12-samesite"
        ),
        pytest.param(
            "sid=1;samesite = none;secure", "sid=1;SameSite=Lax", id="F12-lower-case"
        ),
        pytest.param(
            "sid=1; SameSite=Strict; Secure", "sid=1; SameSite=Strict", id="strict"
        ),
        pytest.param("sid=1; Path=/", "sid=1; Path=/", id="nothing-to-strip"),
    ],
)
def test_strip_set_cookie(cookie, expected):
    assert strip.strip_set_cookie(cookie) == expected
    assert not strip.cookie_is_prefixed(cookie)


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param("__Host-sid=1; Secure; Path=/", id="host"),
        pytest.param("__Secure-sid=1; Secure; SameSite=None", id="secure"),
        pytest.param("__host-sid=1; Secure; Path=/", id="lower-case"),
    ],
)
def test_prefixed_cookies_are_left_alone(cookie):
    assert strip.cookie_is_prefixed(cookie)
    assert strip.strip_set_cookie(cookie) == cookie


def test_cookie_name():
    assert strip.cookie_name(" __Host-sid = 1; Secure") == "__Host-sid"


@pytest.mark.parametrize(
    "policy, expected",
    [
        pytest.param(
            "default-src 'self'; upgrade-insecure-requests",
            "default-src 'self'",
            id="F13",
        ),
        pytest.param(
            "Upgrade-Insecure-Requests; img-src *", "img-src *", id="capitals"
        ),
        pytest.param(
            "block-all-mixed-content; upgrade-insecure-requests;", None, id="empty"
        ),
        pytest.param(
            "script-src 'self'; upgrade-insecure-requests, img-src *",
            "script-src 'self', img-src *",
            id="policy-list",
        ),
        pytest.param("default-src 'self'", "default-src 'self'", id="untouched"),
    ],
)
def test_strip_csp(policy, expected):
    assert strip.strip_csp(policy) == expected


def test_hsts_is_dropped_from_the_response_not_the_request():
    # F13: the browser only notes STS from a response (RFC 6797 8.1).
    assert "strict-transport-security" in strip.DROP_FROM_RESPONSE
    assert "strict-transport-security" not in strip.DROP_FROM_REQUEST


def test_upgrade_insecure_requests_is_dropped_from_the_request():
    assert "upgrade-insecure-requests" in strip.DROP_FROM_REQUEST


@pytest.mark.parametrize(
    "content_type, expected",
    [
        pytest.param("text/html; charset=utf-8", True, id="html"),
        pytest.param("Text/CSS", True, id="css"),
        pytest.param("application/javascript", True, id="js"),
        pytest.param("application/json", True, id="json"),
        pytest.param("application/ld+json", True, id="json-suffix"),
        pytest.param("image/png", False, id="image"),
        pytest.param("application/octet-stream", False, id="binary"),
        pytest.param("", False, id="missing"),
    ],
)
def test_is_text(content_type, expected):
    assert strip.is_text(content_type) is expected
