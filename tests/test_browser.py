"""The victim browser against real servers: redirects, HSTS, cookies."""

import pytest
import trustme
from flask import Flask, redirect, request

from labapp import BrowserError
from labapp.transport import Transport

STS = "max-age=31536000; includeSubDomains"


def _echo_app():
    """An app whose routes redirect in each way and echo what they got."""
    app = Flask("echo")

    @app.route("/echo", methods=["GET", "POST"])
    def echo():
        return (
            f"{request.method} {request.scheme} body={request.get_data(as_text=True)}"
        )

    @app.route("/move/<int:code>", methods=["GET", "POST"])
    def move(code):
        return redirect("/echo", code=code)

    @app.route("/loop")
    def loop():
        return redirect("/loop", code=302)

    @app.route("/sts")
    def sts():
        return "noted", 200, {"Strict-Transport-Security": STS}

    @app.route("/cookie")
    def cookie():
        return "set", 200, {"Set-Cookie": "sid=s3cret; Secure; Path=/"}

    return app


@pytest.fixture
def echo_lab(weak_lab):
    weak_lab.serve(_echo_app())
    return weak_lab


@pytest.mark.parametrize(
    "code, expected",
    [
        (301, "GET http body="),
        (302, "GET http body="),
        (303, "GET http body="),
        (307, "POST http body=a=1"),
        (308, "POST http body=a=1"),
    ],
    ids=["301", "302", "303", "307", "308"],
)
def test_redirects_turn_post_into_get_except_307_and_308(echo_lab, code, expected):
    browser = echo_lab.victim(via_attacker=False)

    page = browser.request("POST", f"http://bank.test/move/{code}", body="a=1")

    assert page.text == expected
    assert [hop.status for hop in page.hops] == [code]


def test_a_redirect_loop_stops_with_a_clear_error(echo_lab):
    browser = echo_lab.victim(via_attacker=False)

    with pytest.raises(BrowserError, match="redirects in a loop"):
        browser.open("http://bank.test/loop")


def test_hsts_upgrades_before_anything_is_sent_over_http(echo_lab):
    browser = echo_lab.victim(via_attacker=False)
    browser.open("https://bank.test/sts")
    echo_lab.site.dispatcher.seen.clear()

    page = browser.open("http://bank.test/echo")

    assert page.text == "GET https body="
    assert page.hops[0].note.startswith("HSTS")
    assert {seen.scheme for seen in echo_lab.site.dispatcher.seen} == {"https"}


def test_hsts_over_http_is_ignored(echo_lab):
    browser = echo_lab.victim(via_attacker=False)

    browser.open("http://bank.test/sts")

    assert browser.hsts.entries() == {}
    assert browser.open("http://bank.test/echo").text == "GET http body="


def test_a_secure_cookie_stays_off_http(echo_lab):
    browser = echo_lab.victim(via_attacker=False)
    browser.open("https://bank.test/cookie")
    echo_lab.site.dispatcher.seen.clear()

    echo_lab.serve(_cookie_echo_app())
    plain = browser.open("http://bank.test/")
    secure = browser.open("https://bank.test/")

    assert plain.text == "cookies: "
    assert secure.text == "cookies: sid=s3cret"


def _cookie_echo_app():
    app = Flask("cookie_echo")
    app.add_url_rule(
        "/", view_func=lambda: "cookies: " + request.headers.get("Cookie", "")
    )
    return app


def test_a_known_hsts_host_with_an_untrusted_certificate_fails_hard(echo_lab, tmp_path):
    stranger = tmp_path / "stranger-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    browser = echo_lab.victim(via_attacker=False)
    browser.open("https://bank.test/sts")
    browser.transport = Transport(echo_lab.network, str(stranger))

    # RFC 6797 8.4 / 12.1: no click-through on a Known HSTS Host.
    with pytest.raises(BrowserError, match="not trusted"):
        browser.open("http://bank.test/echo")
    browser.transport.close()


def test_forms_submit_to_their_action_with_their_defaults(weak_lab):
    browser = weak_lab.victim(via_attacker=False)
    login = browser.open("https://bank.test/login")

    account = browser.submit(
        login, {"username": "alice", "password": "correct-horse-battery"}
    )

    assert account.url == "https://bank.test/account"
    assert "Balance" in account.text


def test_an_unknown_form_field_names_the_fields_there_are(weak_lab):
    browser = weak_lab.victim(via_attacker=False)
    login = browser.open("https://bank.test/login")

    with pytest.raises(BrowserError, match="'password', 'username'"):
        browser.submit(login, {"pasword": "x"})


def test_forget_makes_a_first_time_visitor(echo_lab):
    browser = echo_lab.victim(via_attacker=False)
    browser.open("https://bank.test/sts")
    browser.open("https://bank.test/cookie")

    browser.forget()

    assert browser.hsts.entries() == {} and browser.jar.cookies() == []


def test_urls_outside_the_lab_are_refused_before_any_connection(weak_lab):
    browser = weak_lab.victim(via_attacker=False)

    with pytest.raises(ValueError, match="not part of the lab"):
        browser.open("http://example.com/")
