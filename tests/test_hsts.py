"""Tests for labapp.hsts: the STS grammar and the Known HSTS Hosts store."""

import pytest

from labapp.hsts import HstsStore, StsPolicy, StsSyntaxError, parse_sts

YEAR = 31536000


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def noted_store(host="bank.test", value=f"max-age={YEAR}; includeSubDomains"):
    """Return a store with one host noted over HTTPS."""
    store = HstsStore(clock=FakeClock())
    assert store.note(host, [value], scheme="https").stored
    return store


@pytest.mark.parametrize(
    "value, max_age, subdomains, preload",
    [
        pytest.param("max-age=31536000", YEAR, False, False, id="plain"),
        pytest.param(
            "max-age=31536000; includeSubDomains", YEAR, True, False,
            id="subdomains",
        ),
        pytest.param(
            "max-age=31536000; INCLUDESUBDOMAINS", YEAR, True, False,
            id="names-any-case",
        ),
        pytest.param(
            "max-age=31536000; preload; foo=bar", YEAR, False, True,
            id="unknown-ignored",
        ),
        pytest.param('max-age="31536000"', YEAR, False, False, id="quoted"),
        pytest.param(
            " max-age = 5 ;includeSubDomains ", 5, True, False, id="whitespace"
        ),
        pytest.param("max-age=1;", 1, False, False, id="trailing-semicolon"),
        pytest.param(";;max-age=1;;", 1, False, False, id="empty-directives"),
        pytest.param(
            'max-age=1; foo="a;b"', 1, False, False, id="quoted-semicolon"
        ),
        pytest.param("max-age=0", 0, False, False, id="zero"),
    ],
)
def test_valid_values_parse(value, max_age, subdomains, preload):
    assert parse_sts(value) == StsPolicy(max_age, subdomains, preload)


@pytest.mark.parametrize(
    "value, mistake",
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("  ", "empty", id="blank"),
        pytest.param(
            ":max-age=31536000; includeSubDomains",
            "leading-colon",
            id="leading-colon",
        ),
        pytest.param("max-age:31536000", "colon-for-equals", id="colon-for-equals"),
        pytest.param(
            "max-age=31536000 includeSubDomains",
            "missing-semicolon",
            id="missing-semicolon",
        ),
        pytest.param(
            "max-age=31536000, includeSubDomains", "missing-semicolon", id="comma"
        ),
        pytest.param(
            "max-age=31536000; include SubDomains",
            "split-directive",
            id="split-directive",
        ),
        pytest.param("max age=31536000", "split-directive", id="split-max-age"),
        pytest.param("includeSubDomains", "missing-max-age", id="missing-max-age"),
        pytest.param(
            "max-age=1; max-age=2", "duplicate-directive", id="duplicate-max-age"
        ),
        pytest.param(
            "max-age=1; includeSubDomains; includesubdomains",
            "duplicate-directive",
            id="duplicate-any-case",
        ),
        pytest.param("max-age=-1", "bad-max-age", id="negative"),
        pytest.param("max-age=", "bad-max-age", id="no-number"),
        pytest.param("max-age=1.5", "bad-max-age", id="fraction"),
        pytest.param("max-age=1y", "bad-max-age", id="unit"),
        pytest.param('max-age="31536000', "quoted-bad", id="unclosed-quote"),
        pytest.param("max-age='31536000'", "quoted-bad", id="single-quotes"),
        pytest.param(
            "max-age=\u201c31536000\u201d", "quoted-bad", id="smart-quotes"
        ),
        pytest.param("max-age=1; includeSubDomains=yes", "other", id="valued-flag"),
        pytest.param("max-age=1; @", "other", id="stray-character"),
        pytest.param(
            "Strict-Transport-Security: max-age=1",
            "other",
            id="header-name-in-value",
        ),
    ],
)
def test_syntax_errors_name_the_mistake(value, mistake):
    with pytest.raises(StsSyntaxError) as caught:
        parse_sts(value)
    assert caught.value.mistake == mistake
    assert value.strip() in str(caught.value)


def test_syntax_error_is_a_value_error():
    with pytest.raises(ValueError, match="max-age=31536000"):
        parse_sts("max-age:31536000")


@pytest.mark.parametrize(
    "value, mistake",
    [
        pytest.param(
            ":max-age=31536000; includeSubDomains",
            "leading-colon",
            id="leading-colon",
        ),
        pytest.param("max-age:31536000", "colon-for-equals", id="colon-for-equals"),
        pytest.param(
            "max-age=31536000 includeSubDomains",
            "missing-semicolon",
            id="missing-semicolon",
        ),
        pytest.param(
            "max-age=31536000; include SubDomains",
            "split-directive",
            id="split-directive",
        ),
    ],
)
def test_f02_malformed_header_notes_nothing(value, mistake):
    store = HstsStore()
    notice = store.note("bank.test", [value], scheme="https")
    assert not notice.stored
    assert notice.mistake == mistake
    assert "RFC 6797 6.1" in notice.reason
    assert store.entries() == {}


def test_f02_directive_names_are_case_insensitive():
    store = HstsStore()
    notice = store.note(
        "bank.test", ["max-age=31536000; INCLUDESUBDOMAINS"], scheme="https"
    )
    assert notice.stored
    assert store.entries() == {"bank.test": StsPolicy(YEAR, True, False)}


def test_f02_unknown_directives_are_ignored():
    store = HstsStore()
    notice = store.note(
        "bank.test", ["max-age=31536000; preload; foo=bar"], scheme="https"
    )
    assert notice.stored
    assert store.is_known("bank.test")


def test_f03_negative_is_void_and_zero_removes():
    store = noted_store()

    negative = store.note("bank.test", ["max-age=-1"], scheme="https")
    assert (negative.stored, negative.mistake) == (False, "bad-max-age")
    assert store.is_known("static.bank.test")

    zero = store.note("bank.test", ["max-age=0"], scheme="https")
    assert not zero.stored
    assert zero.reason.startswith("removed")
    assert not store.is_known("bank.test")
    assert not store.is_known("static.bank.test")


def test_zero_removes_only_that_hosts_own_entry():
    store = noted_store()
    store.note("static.bank.test", [f"max-age={YEAR}"], scheme="https")
    store.note("static.bank.test", ["max-age=0"], scheme="https")
    assert store.is_known("static.bank.test")
    assert list(store.entries()) == ["bank.test"]


def test_f04_subdomains_are_upgraded_by_whole_labels():
    store = noted_store()
    assert store.upgrade("http://static.bank.test/") == "https://static.bank.test/"
    assert store.upgrade("http://evilbank.test/") is None


def test_f04_child_policy_never_covers_its_parent():
    store = noted_store("static.bank.test")
    assert store.upgrade("http://bank.test/") is None
    assert store.upgrade("http://cdn.static.bank.test/") is not None


def test_f04_nothing_is_upgraded_before_a_first_visit():
    assert HstsStore().upgrade("http://bank.test/") is None


def test_subdomains_need_include_subdomains():
    store = noted_store(value=f"max-age={YEAR}")
    assert store.is_known("bank.test")
    assert not store.is_known("static.bank.test")


def test_only_the_first_header_counts():
    store = HstsStore()
    notice = store.note(
        "bank.test", ["max-age=60", f"max-age={YEAR}; includeSubDomains"],
        scheme="https",
    )
    assert notice.policy == StsPolicy(60, False, False)
    assert "only the first" in notice.reason
    assert not store.is_known("static.bank.test")


def test_a_bad_first_header_voids_a_good_second():
    store = HstsStore()
    notice = store.note(
        "bank.test", ["max-age:1", f"max-age={YEAR}"], scheme="https"
    )
    assert (notice.stored, notice.mistake) == (False, "colon-for-equals")


def test_header_over_http_is_ignored():
    store = HstsStore()
    notice = store.note("bank.test", [f"max-age={YEAR}"], scheme="http")
    assert not notice.stored
    assert "http://" in notice.reason and "RFC 6797 8.1" in notice.reason
    assert store.entries() == {}


def test_header_after_tls_errors_is_ignored():
    store = HstsStore()
    notice = store.note(
        "bank.test", [f"max-age={YEAR}"], scheme="https", tls_ok=False
    )
    assert not notice.stored
    assert store.entries() == {}


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("127.0.0.1", id="ipv4"),
        pytest.param("::1", id="ipv6"),
        pytest.param("[::1]", id="ipv6-brackets"),
    ],
)
def test_ip_literals_are_never_noted(host):
    store = HstsStore()
    notice = store.note(host, [f"max-age={YEAR}"], scheme="https")
    assert not notice.stored
    assert "RFC 6797 8.1.1" in notice.reason
    assert store.entries() == {}


def test_host_names_are_canonical():
    store = noted_store("Bank.Test.")
    assert list(store.entries()) == ["bank.test"]
    assert store.is_known("BANK.test.")


def test_entries_expire_with_the_clock():
    clock = FakeClock()
    store = HstsStore(clock=clock)
    store.note("bank.test", ["max-age=60"], scheme="https")

    clock.now += 59
    assert store.is_known("bank.test")
    clock.now += 1
    assert not store.is_known("bank.test")
    assert store.entries() == {}


def test_a_new_header_renews_the_expiry():
    clock = FakeClock()
    store = HstsStore(clock=clock)
    store.note("bank.test", ["max-age=60"], scheme="https")
    clock.now += 50
    store.note("bank.test", ["max-age=60"], scheme="https")
    clock.now += 50
    assert store.is_known("bank.test")


def test_huge_max_age_is_kept_without_overflow():
    store = noted_store(value="max-age=" + "9" * 400)
    assert store.is_known("bank.test")


@pytest.mark.parametrize(
    "url, upgraded",
    [
        pytest.param("http://bank.test/", "https://bank.test/", id="root"),
        pytest.param("http://bank.test", "https://bank.test", id="no-path"),
        pytest.param(
            "http://bank.test/account?x=1#top",
            "https://bank.test/account?x=1#top",
            id="path-query-fragment",
        ),
        pytest.param("http://bank.test:80/a", "https://bank.test/a", id="drops-80"),
        pytest.param(
            "http://bank.test:8080/a",
            "https://bank.test:8080/a",
            id="keeps-other-port",
        ),
        pytest.param("HTTP://BANK.TEST/", "https://bank.test/", id="any-case"),
        pytest.param("https://bank.test/", None, id="already-https"),
        pytest.param("ftp://bank.test/", None, id="other-scheme"),
    ],
)
def test_upgrade_rewrites_the_url(url, upgraded):
    assert noted_store().upgrade(url) == upgraded


def test_upgrade_with_a_bad_port_says_so():
    with pytest.raises(ValueError, match="port"):
        noted_store().upgrade("http://bank.test:99999/")


def test_forget_and_remove():
    store = noted_store()
    store.note("other.test", [f"max-age={YEAR}"], scheme="https")
    assert store.remove("other.test")
    assert not store.remove("other.test")
    store.forget()
    assert store.entries() == {}
