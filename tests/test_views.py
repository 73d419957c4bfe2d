"""The widgets against a real lab: what they show, and their text forms."""

import subprocess
import sys
from html import unescape

import pytest
from flask import redirect, request

from labapp import Lab, create_bank, report, views
from labapp.browser import Page

LOGIN = {"username": "alice", "password": "correct-horse-battery"}
STRIP_STEPS = [("open", "bank.test"), ("follow", "Log in"), ("submit", LOGIN)]


def _fixed_bank():
    """The bank with the redirect and HSTS that lessons 04 and 05 add."""
    app = create_bank()

    @app.before_request
    def to_https():
        if request.scheme == "http":
            return redirect(request.url.replace("http://", "https://", 1), 301)

    @app.after_request
    def hsts(response):
        response.headers["Strict-Transport-Security"] = "max-age=600"
        return response

    return app


def _text(widget):
    return widget._repr_mimebundle_()["text/plain"]


def test_importing_labapp_loads_no_widgets():
    code = "import sys, labapp; print('labapp.views' in sys.modules, " \
           "'ipywidgets' in sys.modules)"

    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True, timeout=60).stdout

    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(
    "url, words",
    [("http://bank.test/", "Not secure"), ("https://bank.test/", "Encrypted")],
    ids=["http", "https"],
)
def test_the_address_bar_says_in_words_whether_the_page_is_secure(url, words):
    page = Page(url, 200, {}, "<p>hi</p>")

    bar = views.address_bar_html(page)

    assert words in bar and url in bar


def test_the_victims_page_is_shown_sandboxed_and_inert():
    page = Page("http://bank.test/", 200, {},
                "<html><head><title>t</title></head><body>"
                '<script>alert("x")</script><a href="/a">a</a></body></html>')

    html = views.page_frame_html(page)

    assert 'sandbox=""' in html and "allow-" not in html
    assert "<script>" not in html  # only inside srcdoc, escaped
    srcdoc = unescape(html.split('srcdoc="')[1].split('"')[0])
    assert srcdoc.startswith("<html><head><meta http-equiv=\"Content-Security-Policy\"")
    assert "default-src 'none'" in srcdoc and '<base target="_blank">' in srcdoc


def test_a_page_without_head_still_gets_the_policy_first():
    assert views.inert_document("<p>x</p>").endswith('<base target="_blank"><p>x</p>')


def test_the_victim_screen_says_in_text_what_it_shows(weak_lab):
    page = weak_lab.victim().open("bank.test")

    screen = views.victim_screen(page)

    bundle = screen._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == report.page(page)
    assert "Not secure" in screen._bar.value


def test_the_attacker_screen_fills_in_as_the_victim_browses(weak_lab):
    screen = views.attacker_screen(weak_lab, live=False)
    assert "The attacker saw nothing." in _text(screen)

    alice = weak_lab.victim()
    alice.submit(alice.open("http://bank.test/login"), LOGIN)
    screen.refresh()

    assert "stole 1 password" in _text(screen)
    assert "STOLEN   form fields" in _text(screen)
    assert screen._list.value.count('class="lab-event lab-stolen"') == 2


def test_the_attacker_screen_shows_only_what_came_after_since(weak_lab):
    weak_lab.victim().open("bank.test")
    last = weak_lab.attacker.events()[-1].seq

    screen = views.attacker_screen(weak_lab, since=last, live=False)

    assert screen.events() == []


def test_the_attacker_screen_says_when_the_lab_is_not_running():
    class Stopped:
        attacker = None

    screen = views.attacker_screen(Stopped(), live=False)

    assert _text(screen) == "The lab is not running."


def test_a_first_time_victim_loses_the_password(weak_lab):
    panel = views.attack_panel(weak_lab, STRIP_STEPS, pause=0)

    assert panel.page.url == "http://bank.test/account"
    assert "stole 1 password and 1 cookie header" in _text(panel)
    assert "ATTACKER READS IT and steals: password" in panel.picture.value
    assert [b.description for b in panel.actions.children] == [
        "Click “See our offers”", "Click “Log out”"]


def test_a_returning_victim_of_the_fixed_bank_only_shows_tunnels(weak_lab):
    weak_lab.serve(_fixed_bank())
    panel = views.attack_panel(weak_lab, STRIP_STEPS, pause=0)
    assert "stole 1 password" in _text(panel)  # the first visit is still lost

    panel.mode.value = True  # the switch runs the attack again

    assert panel.page.url == "https://bank.test/account"
    assert panel.browser.hsts.entries()
    assert "read 0 requests" in _text(panel) and "BLIND" in _text(panel)
    assert "In the browser, nothing sent" in panel.picture.value


def test_run_again_starts_a_new_victim_and_a_clean_screen(weak_lab):
    panel = views.attack_panel(weak_lab, STRIP_STEPS, pause=0)
    first = panel.browser

    panel.again.click()

    assert panel.browser is not first
    assert _text(panel).count("STOLEN   form fields") == 1
    assert len(panel.exchanges) == 4


def test_the_link_buttons_browse_as_the_victim(weak_lab):
    panel = views.attack_panel(weak_lab, STRIP_STEPS, pause=0)

    panel.actions.children[0].click()  # See our offers

    assert panel.page.url == "http://bank.test/offers"
    assert "READ     GET http://bank.test/offers" in _text(panel)
    assert panel.exchanges[-1].stolen == {"cookie"}


def test_a_step_that_fails_is_explained_on_the_panel(weak_lab):
    steps = [("open", "bank.test"), ("follow", "Open an account")]

    panel = views.attack_panel(weak_lab, steps, pause=0)

    assert "The victim could not go on" in panel.status.value
    assert "No link 'Open an account'" in _text(panel)


@pytest.mark.parametrize(
    "step", [("visit", "bank.test"), "bank.test", ("open",)],
    ids=["unknown-kind", "not-a-pair", "too-short"],
)
def test_a_malformed_step_is_refused_with_the_forms_that_work(weak_lab, step):
    with pytest.raises(ValueError, match="open"):
        views.attack_panel(weak_lab, [step], pause=0)


def test_pictures_carry_svg_and_the_same_story_in_text(weak_lab):
    alice = weak_lab.victim()
    home = alice.open("bank.test")
    rows = [("weak bank", [("SSL stripping", {"password"})])]

    pictures = [
        views.sequence(weak_lab, home),
        views.grid(rows),
        views.progress_view({"04 redirect": False}),
    ]

    for picture in pictures:
        bundle = picture._repr_mimebundle_()
        assert bundle["image/svg+xml"].startswith("<svg")
        assert bundle["text/plain"] in unescape(bundle["image/svg+xml"])
    assert "plain HTTP: the attacker reads it" in str(pictures[0])


def test_a_click_after_the_lab_stopped_says_how_to_start_it():
    lab = Lab().start()
    try:
        panel = views.attack_panel(lab, STRIP_STEPS, pause=0)
    finally:
        lab.stop()

    panel.actions.children[0].click()

    assert "The lab is not running" in panel.status.value
