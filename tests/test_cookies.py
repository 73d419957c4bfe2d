"""Tests for labapp.cookies: what a current browser stores and sends."""

import pytest

from labapp.cookies import CookieJar

LOGIN = "https://bank.test/login"
PLAIN_LOGIN = "http://bank.test/login"
START = 1_700_000_000.0


class FakeClock:
    """A POSIX clock that moves only when a test says so."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


def receive_one(jar, url, value):
    """Give the jar one Set-Cookie value and return its decision."""
    (decision,) = jar.receive(url, [value])
    return decision


def test_f10_secure_cookie_from_http_is_rejected():
    jar = CookieJar()
    decision = receive_one(jar, PLAIN_LOGIN, "sid=1; Secure; HttpOnly; Path=/")
    assert (decision.stored, decision.rule) == (False, "secure-from-http")
    assert "RFC 6265bis 5.7" in decision.reason
    assert jar.header_for("http://bank.test/account") is None
    assert jar.cookies() == []


def test_f11_host_prefix_cookie_is_stored():
    jar = CookieJar()
    decision = receive_one(jar, LOGIN, "__Host-sid=1; Secure; Path=/")
    assert decision.stored and decision.rule is None
    assert jar.header_for("https://bank.test/account") == "__Host-sid=1"


@pytest.mark.parametrize(
    "url, value, rule, broken",
    [
        pytest.param(
            LOGIN, "__Host-sid=1; Secure", "host-prefix", "no Path", id="no-path"
        ),
        pytest.param(
            LOGIN,
            "__Host-sid=1; Secure; Path=/; Domain=bank.test",
            "host-prefix",
            "Domain",
            id="domain",
        ),
        pytest.param(
            LOGIN,
            "__Host-sid=1; Secure; Path=/app",
            "host-prefix",
            "Path is /app",
            id="path-app",
        ),
        pytest.param(
            LOGIN, "__Secure-sid=1; Path=/", "secure-prefix", "lacks Secure",
            id="secure-prefix-without-secure",
        ),
        pytest.param(
            PLAIN_LOGIN,
            "__Host-sid=1; Secure; Path=/",
            "host-prefix",
            "http://",
            id="host-prefix-from-http",
        ),
        pytest.param(
            PLAIN_LOGIN,
            "__Host-sid=1; Path=/",
            "host-prefix",
            "http://",
            id="host-prefix-from-http-without-secure",
        ),
        pytest.param(
            PLAIN_LOGIN,
            "__Secure-sid=1; Secure; Path=/",
            "secure-prefix",
            "http://",
            id="secure-prefix-from-http",
        ),
        pytest.param(
            LOGIN, "__host-sid=1; Secure", "host-prefix", "no Path",
            id="prefix-any-case",
        ),
    ],
)
def test_f11_prefix_rules_reject_and_name_the_rule(url, value, rule, broken):
    jar = CookieJar()
    decision = receive_one(jar, url, value)
    assert (decision.stored, decision.rule) == (False, rule)
    assert broken in decision.reason
    assert "RFC 6265bis 4.1.3" in decision.reason
    assert jar.cookies() == []


def test_f12_samesite_none_without_secure_is_rejected():
    decision = receive_one(CookieJar(), LOGIN, "sid=1; SameSite=None")
    assert (decision.stored, decision.rule) == (False, "samesite-none-needs-secure")


def test_f12_samesite_none_with_secure_is_stored():
    decision = receive_one(CookieJar(), LOGIN, "sid=1; SameSite=None; Secure")
    assert decision.stored
    assert decision.cookie.same_site == "None"


def test_secure_cookie_is_not_sent_over_http():
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=1; Secure; Path=/")
    receive_one(jar, LOGIN, "theme=dark; Path=/")
    assert jar.header_for("https://bank.test/") == "sid=1; theme=dark"
    assert jar.header_for("http://bank.test/") == "theme=dark"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("sid=evil; Path=/", id="same-path"),
        pytest.param("sid=evil; Path=/account", id="shadowing-path"),
        pytest.param("sid=evil; Domain=bank.test; Path=/", id="domain-cookie"),
        pytest.param("sid=evil; Max-Age=0; Path=/", id="deletion"),
    ],
)
def test_http_cannot_overwrite_a_secure_cookie(value):
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=good; Secure; Path=/")
    decision = receive_one(jar, PLAIN_LOGIN, value)
    assert (decision.stored, decision.rule) == (False, "overwrite-secure")
    assert jar.header_for("https://bank.test/account") == "sid=good"


def test_http_may_overwrite_a_plain_cookie():
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=old; Path=/")
    decision = receive_one(jar, PLAIN_LOGIN, "sid=new; Path=/")
    assert decision.stored
    assert jar.header_for("http://bank.test/") == "sid=new"


def test_attribute_names_are_case_insensitive():
    value = "sid=1; secure; HTTPONLY; sAmEsItE=lax"
    cookie = receive_one(CookieJar(), LOGIN, value).cookie
    assert cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"


def test_unknown_samesite_is_unspecified():
    decision = receive_one(CookieJar(), LOGIN, "sid=1; SameSite=Sometimes")
    assert decision.stored
    assert decision.cookie.same_site is None


@pytest.mark.parametrize(
    "url, sent",
    [
        pytest.param("https://bank.test/", True, id="the-domain"),
        pytest.param("https://static.bank.test/", True, id="subdomain"),
        pytest.param("https://evilbank.test/", False, id="suffix-not-label"),
        pytest.param("https://test/", False, id="parent"),
    ],
)
def test_domain_cookie_covers_whole_labels(url, sent):
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=1; Domain=bank.test")
    assert (jar.header_for(url) is not None) == sent


def test_domain_attribute_leading_dot_is_dropped():
    cookie = receive_one(CookieJar(), LOGIN, "sid=1; Domain=.Bank.Test").cookie
    assert (cookie.domain, cookie.host_only) == ("bank.test", False)


def test_host_only_cookie_skips_subdomains():
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=1")
    assert jar.header_for("https://bank.test/") == "sid=1"
    assert jar.header_for("https://static.bank.test/") is None


@pytest.mark.parametrize(
    "value, rule",
    [
        pytest.param("sid=1; Domain=test", "public-suffix", id="top-level-domain"),
        pytest.param(
            "sid=1; Domain=evilbank.test", "domain-mismatch", id="sibling"
        ),
        pytest.param(
            "sid=1; Domain=static.bank.test", "domain-mismatch", id="child-of-host"
        ),
    ],
)
def test_foreign_domains_are_rejected(value, rule):
    jar = CookieJar()
    decision = receive_one(jar, LOGIN, value)
    assert (decision.stored, decision.rule) == (False, rule)
    assert jar.cookies() == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("sid", id="no-equals"),
        pytest.param("=1", id="empty-name"),
        pytest.param("sid=1\x00; Path=/", id="control-character"),
    ],
)
def test_malformed_values_are_syntax_errors(value):
    decision = receive_one(CookieJar(), LOGIN, value)
    assert (decision.stored, decision.rule) == (False, "syntax")


@pytest.mark.parametrize(
    "attribute",
    [
        pytest.param("Max-Age=0", id="max-age-zero"),
        pytest.param("Max-Age=-5", id="max-age-negative"),
        pytest.param("Expires=Wed, 21 Oct 2015 07:28:00 GMT", id="expires-past"),
    ],
)
def test_past_expiry_deletes_the_cookie(attribute):
    jar = CookieJar(clock=FakeClock())
    receive_one(jar, LOGIN, "sid=1; Path=/")
    decision = receive_one(jar, LOGIN, f"sid=; Path=/; {attribute}")
    assert (decision.stored, decision.rule) == (False, "deleted")
    assert jar.header_for(LOGIN) is None


def test_deletion_needs_the_same_path():
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=1; Path=/")
    decision = receive_one(jar, LOGIN, "sid=; Path=/app; Max-Age=0")
    assert (decision.stored, decision.rule) == (False, "expired")
    assert jar.header_for(LOGIN) == "sid=1"


def test_cookies_expire_with_the_clock():
    clock = FakeClock()
    jar = CookieJar(clock=clock)
    receive_one(jar, LOGIN, "sid=1; Max-Age=60")

    clock.now += 59
    assert jar.header_for(LOGIN) == "sid=1"
    clock.now += 1
    assert jar.header_for(LOGIN) is None
    assert jar.cookies() == []


def test_max_age_wins_over_expires():
    clock = FakeClock()
    jar = CookieJar(clock=clock)
    decision = receive_one(
        jar, LOGIN, "sid=1; Max-Age=60; Expires=Wed, 21 Oct 2015 07:28:00 GMT"
    )
    assert decision.stored
    assert decision.cookie.expires == START + 60


def test_unreadable_expires_is_ignored():
    decision = receive_one(CookieJar(), LOGIN, "sid=1; Expires=next tuesday")
    assert decision.stored
    assert decision.cookie.expires is None


def test_lifetime_is_capped_at_400_days():
    decision = receive_one(
        CookieJar(clock=FakeClock()), LOGIN, "sid=1; Max-Age=999999999999"
    )
    assert decision.cookie.expires == START + 400 * 24 * 60 * 60


@pytest.mark.parametrize(
    "request_path, sent",
    [
        pytest.param("/app", True, id="same"),
        pytest.param("/app/x", True, id="below"),
        pytest.param("/application", False, id="longer-name"),
        pytest.param("/", False, id="parent"),
    ],
)
def test_path_matching(request_path, sent):
    jar = CookieJar()
    receive_one(jar, LOGIN, "sid=1; Path=/app")
    header = jar.header_for("https://bank.test" + request_path)
    assert (header == "sid=1") == sent


@pytest.mark.parametrize(
    "url, path",
    [
        pytest.param("https://bank.test/login", "/", id="top-level"),
        pytest.param("https://bank.test/app/login?x=1", "/app", id="nested"),
        pytest.param("https://bank.test", "/", id="empty-path"),
    ],
)
def test_default_path_is_the_directory(url, path):
    assert receive_one(CookieJar(), url, "sid=1").cookie.path == path


def test_last_path_wins_and_a_bad_one_means_the_default():
    value = "sid=1; Path=/; Path=nope"
    cookie = receive_one(CookieJar(), "https://bank.test/app/login", value).cookie
    assert cookie.path == "/app"


def test_longer_paths_then_older_cookies_come_first():
    clock = FakeClock()
    jar = CookieJar(clock=clock)
    receive_one(jar, LOGIN, "a=1; Path=/")
    clock.now += 1
    receive_one(jar, LOGIN, "b=2; Path=/")
    receive_one(jar, LOGIN, "c=3; Path=/app")
    assert jar.header_for("https://bank.test/app/x") == "c=3; a=1; b=2"


def test_replacing_keeps_the_creation_time():
    clock = FakeClock()
    jar = CookieJar(clock=clock)
    receive_one(jar, LOGIN, "a=1")
    clock.now += 1
    receive_one(jar, LOGIN, "b=2")
    receive_one(jar, LOGIN, "a=3")
    assert jar.header_for(LOGIN) == "a=3; b=2"


def test_clear_forgets_everything():
    jar = CookieJar()
    jar.receive(LOGIN, ["a=1", "b=2"])
    jar.clear()
    assert jar.cookies() == []
    assert jar.header_for(LOGIN) is None


def test_url_without_a_host_is_an_error():
    with pytest.raises(ValueError, match="no host"):
        CookieJar().receive("/login", ["sid=1"])
