"""Every notebook in JupyterLab in headless Chromium: no error, views render.

Run all cells as a learner would, then look at what the page shows: each
widget and picture rendered, the victim's page sandboxed, the attacker's
screen filled in, and the panel's controls doing what they say.
"""

import pytest

from .jupyterlab import chromium_missing_reason, notebooks

REASON = chromium_missing_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

WIDGET = "application/vnd.jupyter.widget-view+json"
SVG = "image/svg+xml"
NB01 = "notebooks/01-meet-the-bank.ipynb"
NB02 = "notebooks/02-ssl-stripping.ipynb"
NB03 = "notebooks/03-cookie-leak.ipynb"


def _name(path):
    return path.rsplit("/", 1)[-1].split("-")[0]


def _outputs(ran, kind=None):
    """(cell index, output) for every output, or those of one MIME type."""
    return [
        (cell["index"], out) for cell in ran.cells() for out in cell["outputs"]
        if kind is None or kind in out.get("data", {})
    ]


def _rendered(ran, mime):
    """The output nodes JupyterLab rendered for `mime`, scrolled into view."""
    # A widget's view is the output node itself, which has no MIME type set.
    selector = "[data-mime-type]" if mime == WIDGET else f'[data-mime-type="{mime}"]'
    if mime == WIDGET:
        selector = ":not(" + selector + ")"
    nodes = ran.page.locator(".jp-OutputArea-output" + selector)
    for i in range(nodes.count()):
        nodes.nth(i).scroll_into_view_if_needed()
    return nodes


def _shown(locator):
    """The text a learner sees in `locator`, once it is scrolled into view.

    Off-screen cells are not rendered (CSS content-visibility), and text that
    is not rendered has no innerText.
    """
    locator.scroll_into_view_if_needed()
    return locator.inner_text()


def only(notebook):
    """Parametrize a test with one notebook, sharing that notebook's run."""
    return pytest.mark.parametrize("ran", [notebook], indirect=True, ids=_name)


@pytest.mark.parametrize("ran", notebooks(), indirect=True, ids=_name)
def test_every_cell_runs_without_an_error(ran):
    errors = [f"cell {i}: {o['ename']}: {o['evalue']}"
              for i, o in _outputs(ran) if o["output_type"] == "error"]
    stderr = [f"cell {i}: {o['text']}" for i, o in _outputs(ran)
              if o.get("name") == "stderr"]

    assert ran.outcome == "done" and not errors, errors
    assert not stderr, stderr


@pytest.mark.parametrize("ran", notebooks(), indirect=True, ids=_name)
def test_every_widget_renders(ran):
    expected = len(_outputs(ran, WIDGET))

    nodes = _rendered(ran, WIDGET)

    assert nodes.count() == expected
    for i in range(expected):
        node = nodes.nth(i)
        node.locator(".widget-box").first.wait_for()
        assert "Error displaying widget" not in _shown(node)
        assert node.bounding_box()["height"] > 20


@pytest.mark.parametrize("ran", notebooks(), indirect=True, ids=_name)
def test_every_picture_renders(ran):
    expected = len(_outputs(ran, SVG))

    images = _rendered(ran, SVG).locator("img")

    assert images.count() == expected
    for i in range(expected):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth") > 300


@only(NB01)
def test_01_shows_not_secure_and_then_the_lock(ran):
    screens = ran.page.locator(".lab-victim-screen")

    assert screens.count() == 2
    home, account = screens.nth(0), screens.nth(1)
    assert _shown(home.locator(".lab-security")).strip() == "Not secure"
    assert _shown(home.locator(".lab-url")) == "http://bank.test/"
    assert _shown(account.locator(".lab-security")).strip() == "Encrypted"
    assert _shown(account.locator(".lab-url")) == "https://bank.test/account"


@only(NB01)
def test_01_shows_the_page_in_a_sandbox_that_runs_nothing(ran):
    frames = ran.page.locator(".lab-victim-screen iframe.lab-page")
    headings = []
    for i in range(frames.count()):
        frames.nth(i).scroll_into_view_if_needed()
        headings.append(frames.nth(i).content_frame.locator("h1").inner_text())

    assert [frames.nth(i).get_attribute("sandbox") for i in range(2)] == ["", ""]
    assert headings == ["Welcome to the Weak Bank", "Your account"]


@only(NB02)
def test_02_the_attackers_screen_filled_in_after_it_was_shown(ran):
    (index, shown), *_ = _outputs(ran, WIDGET)
    screen = ran.page.locator(".lab-attacker-screen").first

    assert "The attacker saw nothing." in shown["data"]["text/plain"]
    assert "stole" in _shown(screen) and "stole 0 passwords" not in _shown(screen)
    stolen = screen.locator(".lab-stolen")
    assert "form fields" in _shown(stolen.first)
    assert "correct-horse-battery" in _shown(stolen.first)


@only(NB02)
def test_02_the_victim_sees_a_normal_page_marked_not_secure(ran):
    screen = ran.page.locator(".lab-victim-screen").first

    assert _shown(screen.locator(".lab-security")).strip() == "Not secure"
    assert _shown(screen.locator(".lab-url")) == "http://bank.test/account"


@only(NB02)
def test_02_the_sequence_diagram_says_the_attacker_reads_the_password(ran):
    (_, picture), = [(i, o) for i, o in _outputs(ran, SVG)]

    assert "ATTACKER READS IT and steals: password" in picture["data"][SVG]
    assert "3. Victim -> Attacker: POST http://bank.test/login" in (
        picture["data"]["text/plain"])


@only(NB03)
def test_03_the_attacker_saw_tunnels_then_the_cookie(ran):
    screen = ran.page.locator(".lab-attacker-screen").first

    kinds = [_shown(row).split()[0] for row in screen.locator(".lab-event").all()]

    assert kinds[:3] == ["BLIND", "BLIND", "BLIND"]
    assert "cookies {'session'" in _shown(screen.locator(".lab-stolen").first)


@only(NB03)
def test_03_the_login_shows_the_lock(ran):
    screen = ran.page.locator(".lab-victim-screen").first

    assert _shown(screen.locator(".lab-security")).strip() == "Encrypted"


# The controls change the page, so they come last for each notebook.


def _panel(ran):
    panel = ran.page.locator(".lab-attack-panel")
    panel.scroll_into_view_if_needed()
    return panel


@only(NB02)
def test_02_a_link_button_browses_as_the_victim(ran):
    from playwright.sync_api import expect

    panel = _panel(ran)
    expect(panel.locator(".lab-url")).to_have_text("http://bank.test/account")

    panel.get_by_role("button", name="Click “See our offers”").click()

    expect(panel.locator(".lab-url")).to_have_text("http://bank.test/offers")
    expect(panel.locator(".lab-attacker-screen")).to_contain_text(
        "GET http://bank.test/offers")


@only(NB02)
def test_02_the_returning_switch_reruns_with_a_victim_who_visited_before(ran):
    from playwright.sync_api import expect

    panel = _panel(ran)

    panel.get_by_role("button", name="Returning").click()

    expect(panel).to_contain_text("Returning: the browser went through")
    # The weak bank's cookie, kept from the visit at home, leaks at once.
    expect(panel.locator(".lab-attacker-screen")).to_contain_text(
        "stole 1 password and 4 cookie headers")
    expect(panel.locator(".lab-url")).to_have_text("http://bank.test/account")


@only(NB02)
def test_02_run_again_starts_over_as_a_first_time_victim(ran):
    from playwright.sync_api import expect

    panel = _panel(ran)
    panel.get_by_role("button", name="First visit").click()
    expect(panel).to_contain_text("First visit: a new browser")
    panel.get_by_role("button", name="Click “See our offers”").click()
    expect(panel.locator(".lab-url")).to_have_text("http://bank.test/offers")

    panel.get_by_role("button", name="Run the attack again").click()

    expect(panel.locator(".lab-url")).to_have_text("http://bank.test/account")
    screen = panel.locator(".lab-attacker-screen")
    expect(screen).to_contain_text("stole 1 password and 1 cookie header")
    expect(screen).not_to_contain_text("bank.test/offers")


@only(NB03)
def test_03_the_panel_draws_tunnels_and_the_leak(ran):
    from playwright.sync_api import expect

    panel = _panel(ran)

    expect(panel.locator(".lab-attacker-screen")).to_contain_text(
        "saw 3 encrypted tunnels")
    drawing = panel.locator("svg")
    assert "ENCRYPTED TUNNEL: ATTACKER CANNOT READ IT" in drawing.last.inner_html()
    assert drawing.last.bounding_box()["width"] > 600
