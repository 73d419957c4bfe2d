"""The pictures: exchanges matched with the attacker's record, SVG and text."""

import xml.etree.ElementTree as ET

import pytest

from labapp import diagram
from labapp.attacker import Event
from labapp.browser import Hop, Page

SVG = "{http://www.w3.org/2000/svg}"
PASSWORD = {"username": "alice", "password": "correct-horse-battery"}


def _page(url, hops=(), status=200):
    return Page(url, status, {}, "<p>hi</p>", list(hops))


def _events(*records):
    return [Event(n, 0.0, kind, data) for n, (kind, data) in enumerate(records, 1)]


def _words(svg):
    """Every piece of text drawn in an SVG document, parsed as XML."""
    root = ET.fromstring(svg)
    return [t.text for t in root.iter(f"{SVG}text")]


def test_plain_http_through_the_attacker_is_read_and_says_what_it_stole():
    login = _page("http://bank.test/account",
                  [Hop("POST", "http://bank.test/login", 303)])
    events = _events(
        ("request", {"method": "POST", "url": "http://bank.test/login",
                     "upstream": "https"}),
        ("form", {"url": "http://bank.test/login", "fields": PASSWORD}),
        ("request", {"method": "GET", "url": "http://bank.test/account",
                     "upstream": "https"}),
        ("cookie", {"url": "http://bank.test/account", "cookies": {"session": "x"}}),
        ("strip", {"url": "http://bank.test/account",
                   "rewrites": ["upgrade-insecure-requests", "sts"]}),
    )

    post, get = diagram.exchanges([login], events)

    assert (post.method, post.path, post.status) == ("POST", diagram.READ, 303)
    assert post.stolen == {"password"}
    assert post.upstream_url == "https://bank.test/login"
    assert (get.method, get.stolen) == ("GET", {"cookie"})
    assert get.rewrites == ("removed Strict-Transport-Security",)


def test_https_through_the_attacker_is_a_tunnel_it_cannot_read():
    page = _page("https://bank.test/login")
    events = _events(("tunnel", {"host": "bank.test", "port": 443}))

    (exchange,) = diagram.exchanges([page], events)

    assert exchange.path == diagram.TUNNEL
    assert "only a tunnel to bank.test:443" in diagram.reading(exchange)


def test_a_victim_without_attacker_goes_straight_to_the_bank():
    (exchange,) = diagram.exchanges([_page("http://bank.test/")], via_attacker=False)

    assert exchange.path == diagram.DIRECT
    assert "no attacker" in diagram.sequence_text([exchange])


def test_an_hsts_upgrade_happens_in_the_browser_and_keeps_the_method():
    note = "HSTS: upgraded before sending"
    page = _page("https://bank.test/", [Hop("GET", "http://bank.test/", 307, note)])

    upgrade, sent = diagram.exchanges([page], [])

    assert upgrade.path == diagram.UPGRADE and upgrade.note == note
    assert (sent.method, sent.path) == ("GET", diagram.TUNNEL)
    assert "nothing was sent" in diagram.reading(upgrade)


@pytest.mark.parametrize(
    "status, method, expected",
    [(301, "POST", "GET"), (302, "POST", "GET"), (303, "POST", "GET"),
     (307, "POST", "POST"), (308, "POST", "POST"), (303, "HEAD", "HEAD")],
    ids=["301", "302", "303", "307", "308", "303-head"],
)
def test_the_method_after_a_redirect_follows_fetch(status, method, expected):
    page = _page("https://bank.test/b", [Hop(method, "https://bank.test/a", status)])

    _, after = diagram.exchanges([page], [])

    assert after.method == expected


def test_without_redirects_the_method_comes_from_the_attackers_record():
    events = _events(
        ("request", {"method": "GET", "url": "http://bank.test/", "upstream": "https"}),
        ("request", {"method": "POST", "url": "http://bank.test/login",
                     "upstream": "https"}),
    )
    pages = [_page("http://bank.test/"), _page("http://bank.test/login", status=401)]

    home, login = diagram.exchanges(pages, events)

    assert (home.method, login.method, login.status) == ("GET", "POST", 401)


def test_sequence_svg_is_xml_with_its_text_twin_as_description():
    events = _events(
        ("request", {"method": "POST", "url": "http://bank.test/login",
                     "upstream": "https"}),
        ("form", {"url": "http://bank.test/login", "fields": PASSWORD}),
        ("tunnel", {"host": "bank.test", "port": 443}),
    )
    pages = [_page("http://bank.test/login"), _page("https://bank.test/account")]
    found = diagram.exchanges(pages, events, method="POST")

    svg = diagram.sequence_svg(found, title="Log in")
    root = ET.fromstring(svg)

    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Log in"
    assert root.find(f"{SVG}desc").text == diagram.sequence_text(found)
    words = " ".join(_words(svg))
    assert "ATTACKER READS IT and steals: password" in words
    assert "ENCRYPTED TUNNEL: ATTACKER CANNOT READ IT" in words
    assert "POST http://bank.test/login" in words
    assert "200 OK" in words


def test_sequence_svg_escapes_what_it_draws():
    hostile = "http://bank.test/<script>alert(1)</script>?a=1&b=2"
    found = diagram.exchanges([_page(hostile)], via_attacker=False)

    svg = diagram.sequence_svg(found)

    assert "<script>" not in svg
    assert any(hostile in w for w in _words(svg))


def test_an_empty_sequence_says_so():
    assert "No exchange yet." in _words(diagram.sequence_svg([]))
    assert diagram.sequence_text([]) == "No exchange yet."


GRID = [
    ("weak bank", [("SSL stripping", {"password", "cookie"}),
                   ("cookie leak", {"cookie"})]),
    ("+ HSTS", [("SSL stripping", set()), ("cookie leak", set())]),
    ("+ Secure", [("cookie leak", set())]),
]


@pytest.mark.parametrize(
    "stolen, words",
    [({"password", "cookie"}, "STOLEN: cookie, password"),
     (set(), "safe: nothing stolen"), (None, "not run")],
    ids=["stolen", "safe", "missing"],
)
def test_each_grid_cell_says_in_words_what_happened(stolen, words):
    assert diagram.cell_text(stolen) == words
    assert words in _words(diagram.grid_svg(GRID))


def test_grid_keeps_the_order_of_rows_and_columns():
    words = _words(diagram.grid_svg(GRID, title="Grid"))

    assert words[:4] == ["Grid", "defence \\ attack", "SSL stripping", "cookie leak"]
    assert [w for w in words if w in ("weak bank", "+ HSTS", "+ Secure")] == [
        "weak bank", "+ HSTS", "+ Secure"]


def test_grid_text_is_an_aligned_table():
    lines = diagram.grid_text(GRID).splitlines()

    header = "defence \\ attack | " + "SSL stripping".ljust(24) + " | cookie leak"
    assert lines[0] == header
    assert lines[3].startswith("+ Secure ") and "not run" in lines[3]
    assert len({line.index("|") for line in lines}) == 1


def test_progress_says_done_or_to_do_for_each_check():
    progress = {"04 redirect": True, "05 HSTS": False}

    text = diagram.progress_text(progress)
    words = _words(diagram.progress_svg(progress))

    assert text.splitlines() == [
        "1 of 2 checks passed.", "[done] 04 redirect", "[to do] 05 HSTS"]
    assert words == ["Your progress: 1 of 2 checks passed",
                     "done", "04 redirect", "to do", "05 HSTS"]


@pytest.mark.parametrize(
    "url, lines, words",
    [("http://bank.test/", 1, "plain HTTP"), ("https://bank.test/", 2, "encrypted")],
    ids=["http", "https"],
)
def test_without_attacker_the_line_still_shows_the_scheme(url, lines, words):
    (exchange,) = diagram.exchanges([_page(url)], via_attacker=False)

    root = ET.fromstring(diagram.sequence_svg([exchange]))
    request = [line for line in root.iter(f"{SVG}line")
               if line.get("stroke-dasharray") is None and line.get("x1") == "110"]

    assert len(request) == lines
    assert words in diagram.reading(exchange)
