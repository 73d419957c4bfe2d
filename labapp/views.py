"""What the learner looks at: the victim's screen, the attacker's, pictures.

Each view is an ipywidgets widget or an SVG picture, and each also carries a
text form as its ``text/plain``: `jupyter execute`, nbval, GitHub and any
frontend without widgets show that instead, and it says the same. Nothing is
told by colour alone. A victim's page is shown in a sandboxed frame, so
nothing in it runs in the learner's JupyterLab.

Import this module where the views are needed; ``import labapp`` does not.
"""

import re
import time
from html import escape, unescape

import ipywidgets as widgets

from . import diagram, report
from .errors import BrowserError, LabError, NotRunningError

MAX_LIVE = 8  # attacker screens refreshed after each cell; older ones stop
MAX_ROWS = 200  # lines an attacker screen shows; older ones are summed up
MAX_BUTTONS = 8  # links of a page offered as buttons

_TAGS = {
    "READ": ("#fef7e0", "#7a4f01", "read a plain-HTTP request"),
    "STOLEN": ("#fce8e6", "#a50e0e", "kept a password, form or cookie"),
    "BLIND": ("#e6f4ea", "#0d652d", "an encrypted tunnel it could not open"),
    "REWROTE": ("#f3e8fd", "#681da8", "changed the bank's answer"),
    "REFUSED": ("#f1f3f4", "#3c4043", "a host outside the lab"),
}

_LOCK = (
    '<svg width="12" height="14" viewBox="0 0 12 14" aria-hidden="true">'
    '<rect x="1" y="6" width="10" height="8" rx="1.5" fill="#1f1f1f"/>'
    '<path d="M3 6V4a3 3 0 0 1 6 0v2" fill="none" stroke="#1f1f1f" '
    'stroke-width="1.8"/></svg>'
)
_WARNING = (
    '<svg width="14" height="13" viewBox="0 0 14 13" aria-hidden="true">'
    '<path d="M7 0.5 13.5 12.5H0.5Z" fill="#a50e0e"/>'
    '<rect x="6.2" y="4" width="1.6" height="4.6" fill="white"/>'
    '<rect x="6.2" y="9.6" width="1.6" height="1.6" fill="white"/></svg>'
)
# Inside the victim's page: no fetches, no form posts, and links that would
# open a new window, which the sandbox (no allow-popups) then refuses.
_INERT_HEAD = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:; form-action 'none'\">"
    '<base target="_blank">'
)
_HEAD_TAG = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


class Picture:
    """An SVG picture with a text twin: the picture where images show."""

    def __init__(self, svg, text):
        self.svg = svg
        self.text = text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg, "text/plain": self.text}

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text


class _WithText:
    """A widget whose text/plain is a meaningful text form, not its repr."""

    def text(self):
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()
        return bundle


# --- The victim's screen -----------------------------------------------------


def address_bar_html(page):
    """The address bar: a lock and "Encrypted", or "Not secure"; the URL."""
    if page.secure:
        sign, words, ink = _LOCK, "Encrypted", "#1f1f1f"
    else:
        sign, words, ink = _WARNING, "Not secure", "#a50e0e"
    return (
        '<div class="lab-address-bar" style="display:flex;align-items:center;'
        "gap:10px;border:1px solid #9aa0a6;border-radius:8px 8px 0 0;"
        'padding:5px 12px;background:#f1f3f4;font-family:sans-serif">'
        f'<span class="lab-security" style="color:{ink};font-weight:bold;'
        f'white-space:nowrap">{sign} {words}</span>'
        '<span class="lab-url" style="font-family:monospace;font-size:14px">'
        f"{escape(page.url)}</span></div>"
    )


def inert_document(html):
    """`html` with a policy that stops loads, posts and navigation from it."""
    head = _HEAD_TAG.search(html)
    if head is None:
        return _INERT_HEAD + html
    return html[: head.end()] + _INERT_HEAD + html[head.end():]


def page_frame_html(page, height=150):
    """The page as received, in a sandboxed frame, with how it arrived."""
    frame = (
        '<iframe class="lab-page" sandbox="" title="The page as the victim '
        f'received it" srcdoc="{escape(inert_document(page.text), quote=True)}" '
        f'style="width:100%;height:{height}px;border:1px solid #9aa0a6;'
        'border-top:none;background:white;display:block"></iframe>'
    )
    via = [f"{hop.method} {hop.url} → {diagram.status_text(hop.status)}"
           + (f" ({hop.note})" if hop.note else "") for hop in page.hops]
    arrived = f"status {diagram.status_text(page.status)}"
    if via:
        arrived += "; on the way: " + "; ".join(via)
    return frame + (
        '<div class="lab-arrival" style="font-size:12px;color:#3c4043">'
        f"{escape(arrived)}</div>"
    )


class VictimScreen(_WithText, widgets.VBox):
    """The victim's browser window: address bar and the page as received."""

    def __init__(self, page=None, title="Alice's screen"):
        self._page = None
        self._title = widgets.HTML(f"<b>{escape(title)}</b>")
        self._bar = widgets.HTML()
        self._frame = widgets.HTML(layout=widgets.Layout(width="100%"))
        super().__init__([self._title, self._bar, self._frame])
        self.add_class("lab-victim-screen")
        if page is not None:
            self.show(page)

    def show(self, page):
        """Show `page`, as the victim's browser received it."""
        self._page = page
        self._bar.value = address_bar_html(page)
        self._frame.value = page_frame_html(page)

    def text(self):
        if self._page is None:
            return "The victim has not opened a page yet."
        return report.page(self._page)


def victim_screen(page, title="Alice's screen"):
    """A widget showing `page` as the victim sees it; text form: report.page."""
    return VictimScreen(page, title)


# --- The attacker's screen ---------------------------------------------------


def attacker_html(events):
    """The attacker's screen as an HTML table: a word for each kind of line."""
    # report.attacker_screen says what each event means and leaves out the
    # routine ones; a line that starts with an upper-case word is an event.
    lines = [line for line in report.attacker_screen(events).splitlines()
             if line.split(" ", 1)[0].isupper()]
    shown = lines[-MAX_ROWS:]
    rows = []
    if len(lines) > len(shown):
        hidden = len(lines) - len(shown)
        rows.append(f'<tr><td colspan="2">… {hidden} earlier lines</td></tr>')
    for line in shown:
        tag, _, rest = line.partition(" ")
        fill, ink, _ = _TAGS.get(tag, ("white", "#1f1f1f", ""))
        rows.append(
            f'<tr class="lab-event lab-{escape(tag.lower())}">'
            f'<td style="padding:2px 6px"><span style="background:{fill};'
            f"color:{ink};border:1px solid {ink};border-radius:4px;"
            f'padding:0 6px;font-weight:bold">{escape(tag)}</span></td>'
            f'<td style="padding:2px 6px;font-family:monospace">'
            f"{escape(rest.strip())}</td></tr>"
        )
    if not lines:
        rows.append('<tr><td colspan="2">Nothing yet: the attacker waits for '
                    "the victim's traffic.</td></tr>")
    legend = " · ".join(f"<b>{tag}</b>: {meaning}"
                        for tag, (_, _, meaning) in _TAGS.items())
    return (
        '<table style="border-collapse:collapse;font-size:13px">'
        + "".join(rows) + "</table>"
        f'<div style="font-size:11px;color:#3c4043;margin-top:4px">{legend}</div>'
    )


def attacker_summary(events):
    """One sentence: how much the attacker saw, and what it took."""
    forms = [e for e in events if e.kind == "form"]
    passwords = sum(
        1 for e in forms if any("pass" in n.lower() for n in e["fields"])
    )
    cookies = sum(1 for e in events if e.kind == "cookie")
    tunnels = sum(1 for e in events if e.kind == "tunnel")
    reads = sum(1 for e in events if e.kind == "request")
    return (
        f"The attacker read {_count(reads, 'request')} in plain HTTP, "
        f"stole {_count(passwords, 'password')} and "
        f"{_count(cookies, 'cookie header')}, and saw "
        f"{_count(tunnels, 'encrypted tunnel')} it could not open."
    )


def _count(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


class AttackerScreen(_WithText, widgets.VBox):
    """Mallory's screen: what the attacker saw, filling in as the victim browses.

    A live screen refreshes after every cell the learner runs (at most
    `MAX_LIVE` screens at once); panels refresh theirs after every click.
    Only events after `since` (an event number) are shown.
    """

    def __init__(self, lab, since=0, live=True,
                 title="Mallory's screen (the attacker)"):
        self.lab = lab
        self.since = since
        self._attacker = lab.attacker
        self._title = widgets.HTML(f"<b>{escape(title)}</b>")
        self._summary = widgets.HTML()
        self._list = widgets.HTML()
        super().__init__([self._title, self._summary, self._list])
        self.add_class("lab-attacker-screen")
        self.refresh()
        if live:
            _watch(self)

    def events(self):
        """The events this screen shows: the attacker's since `since`."""
        attacker = self.lab.attacker
        if attacker is None:
            return []
        if attacker is not self._attacker:  # the lab restarted: numbers too
            self._attacker, self.since = attacker, 0
        return [e for e in attacker.events() if e.seq > self.since]

    def restart(self):
        """Show only what the attacker sees from now on."""
        events = self.lab.attacker.events() if self.lab.attacker else []
        self.since = events[-1].seq if events else self.since
        self.refresh()

    def refresh(self):
        """Read the attacker's new events and show them."""
        events = self.events()
        if self.lab.attacker is None:
            self._summary.value = "The lab is not running."
        else:
            self._summary.value = escape(attacker_summary(events))
        self._list.value = attacker_html(events)

    def text(self):
        if self.lab.attacker is None:
            return "The lab is not running."
        events = self.events()
        return attacker_summary(events) + "\n" + report.attacker_screen(events)


_LIVE = []


def _watch(screen):
    """Refresh `screen` after each cell the kernel runs, if in IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    _LIVE.append(screen)
    del _LIVE[:-MAX_LIVE]
    if _refresh_live not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _refresh_live)


def _refresh_live(result=None):
    """Refresh every live attacker screen that is still open."""
    _LIVE[:] = [screen for screen in _LIVE if screen.comm is not None]
    for screen in _LIVE:
        screen.refresh()


def attacker_screen(lab, since=0, live=True):
    """Mallory's screen for `lab`: a live list of what the attacker saw."""
    return AttackerScreen(lab, since, live)


# --- Pictures ----------------------------------------------------------------


def sequence(lab, *pages, via_attacker=True, method=None,
             title="What crossed the network"):
    """A sequence diagram of how `pages` were loaded, as a picture.

    The attacker's events come from `lab`; give `via_attacker=False` for a
    victim with no attacker on the path, and `method` for a page that came
    without redirects from a request other than GET.
    """
    events = _attacker(lab).events() if via_attacker else []
    found = diagram.exchanges(pages, events, via_attacker, method)
    return Picture(diagram.sequence_svg(found, title), diagram.sequence_text(found))


def grid(rows, title="Every attack against every defence"):
    """The attack-by-defence grid (see `diagram.grid_svg`) as a picture."""
    return Picture(diagram.grid_svg(rows, title), diagram.grid_text(rows))


def progress_view(progress, title="Your progress"):
    """The learner's checks, name -> passed, as a picture of a to-do list."""
    return Picture(diagram.progress_svg(progress, title),
                   diagram.progress_text(progress))


# --- Controls ----------------------------------------------------------------

_RUN_TITLE = "What crossed the network in this run"
_MODES = {
    False: "First visit: a new browser, with no HSTS entries and no cookies, "
           "on the attacker's network.",
    True: "Returning: the browser went through the same steps once before, "
          "from home with no attacker, and kept what the bank told it (HSTS, "
          "cookies); now it is on the attacker's network.",
}


class AttackPanel(_WithText, widgets.VBox):
    """Controls to run the attack as a first-time or returning victim.

    `steps` is the victim's journey, each one of ("open", url),
    ("follow", link text) or ("submit", form fields). The panel runs it
    once at once; then "Run the attack again" and the first-visit/returning
    switch run it anew, and buttons click the links of the page the victim
    is on. On those runs, `pause` seconds between steps let the screens fill
    in visibly; the first run, while the cell executes, does not wait, as
    nobody sees the panel before the cell ends.
    """

    def __init__(self, lab, steps, returning=False, pause=0.4):
        self.lab = lab
        self.steps = [_checked_step(step) for step in steps]
        self.pause = pause
        self.browser = self.page = None
        self.exchanges = []
        self._fields = next((a for k, a in self.steps if k == "submit"), {})

        self.mode = widgets.ToggleButtons(
            options=[("First visit", False), ("Returning", True)],
            value=returning, description="Victim:",
            style={"button_width": "auto"},
            tooltips=["A browser that never saw the bank",
                      "A browser that visited the bank before, from home"],
        )
        self.again = widgets.Button(description="Run the attack again",
                                    icon="redo", button_style="warning",
                                    layout=_auto())
        self.explain = widgets.HTML()
        self.actions = widgets.HBox()
        self.status = widgets.HTML()
        self.victim = VictimScreen()
        self.attacker = AttackerScreen(lab, live=False)
        self.picture = widgets.HTML(layout=widgets.Layout(overflow="auto"))
        super().__init__([
            widgets.HTML("<b>Try it: browse as Alice, with Mallory on the path</b>"),
            widgets.HBox([self.mode, self.again]), self.explain,
            self.actions, self.status, self.victim, self.attacker, self.picture,
        ])
        self.add_class("lab-attack-panel")

        self.again.on_click(lambda _: self.run())
        self.mode.observe(lambda _: self.run(), names="value")
        self.run(pause=0)

    def run(self, pause=None):
        """Start over with a new victim and walk through every step."""
        pause = self.pause if pause is None else pause
        self.status.value = ""
        self.page, self.exchanges = None, []
        self.explain.value = escape(_MODES[self.mode.value])
        try:
            self.browser = self._new_victim()
        except LabError as err:
            return self._fail(err)
        self.attacker.restart()
        self.picture.value = ""
        for number, step in enumerate(self.steps):
            if number and pause:
                time.sleep(pause)
            if not self.do(step):
                break
        self._offer_actions()

    def do(self, step):
        """Take one step as the victim; show it everywhere; False if it failed."""
        kind, argument = _checked_step(step)
        try:
            before = _last_seq(self.lab)
            self.page, method = _take(self.browser, self.page, kind, argument)
        except LabError as err:
            self._fail(err)
            return False

        events = [e for e in _attacker(self.lab).events() if e.seq > before]
        self.exchanges += diagram.exchanges([self.page], events, True, method)
        self.victim.show(self.page)
        self.attacker.refresh()
        self.picture.value = diagram.sequence_svg(self.exchanges, _RUN_TITLE)
        return True

    def text(self):
        parts = [_MODES[self.mode.value]]
        if self.status.value:
            parts.append(_plain(self.status.value))
        parts += [
            "Alice's screen:\n" + self.victim.text(),
            "Mallory's screen:\n" + self.attacker.text(),
            "What crossed the network:\n" + diagram.sequence_text(self.exchanges),
        ]
        return "\n\n".join(parts)

    def _new_victim(self):
        """A browser for this run; a returning one first visits from home."""
        browser = self.lab.victim(via_attacker=False)
        if self.mode.value:
            page = None
            for kind, argument in self.steps:
                page, _ = _take(browser, page, kind, argument)
        browser.transport = self.lab.transport(self.lab.attacker.proxy)
        return browser

    def _offer_actions(self):
        """One button per link and form on the victim's current page."""
        buttons = []
        links = self.page.links[:MAX_BUTTONS] if self.page else []
        for link in links:
            button = widgets.Button(description=f"Click “{link.text}”",
                                    tooltip=link.url, layout=_auto())
            button.on_click(self._clicker(("follow", link.text)))
            buttons.append(button)
        if self.page and self.page.forms:
            fields = {k: v for k, v in self._fields.items()
                      if k in self.page.forms[0].fields}
            button = widgets.Button(description="Submit the form", layout=_auto(),
                                    tooltip=", ".join(fields) or "as it is")
            button.on_click(self._clicker(("submit", fields)))
            buttons.append(button)
        self.actions.children = buttons

    def _clicker(self, step):
        def click(_):
            self.status.value = ""
            if self.do(step):
                self._offer_actions()
        return click

    def _fail(self, err):
        """Say on the panel why the victim could not go on."""
        self.status.value = (
            '<div style="border-left:4px solid #a50e0e;padding-left:8px">'
            f"<b>The victim could not go on:</b> {escape(str(err))}</div>"
        )


def attack_panel(lab, steps, returning=False, pause=0.4):
    """Controls to run `steps` as the victim again, first-time or returning."""
    return AttackPanel(lab, steps, returning, pause)


def _checked_step(step):
    """A step as (kind, argument), or an error that shows the right forms."""
    try:
        kind, argument = step
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"A step must be a pair such as ('open', 'bank.test'), "
            f"('follow', 'Log in') or ('submit', {{...}}), not {step!r}."
        ) from err
    if kind not in ("open", "follow", "submit"):
        raise ValueError(
            f"Unknown step {kind!r} in {step!r}; use 'open', 'follow' or 'submit'."
        )
    return kind, argument


def _take(browser, page, kind, argument):
    """Do one step in `browser`; return the new page and the first method."""
    if kind == "open":
        return browser.open(argument), "GET"
    if page is None:
        raise BrowserError(f"The step ({kind!r}, {argument!r}) needs a page "
                           "open first; begin the steps with ('open', url).")
    if kind == "follow":
        return browser.follow(page, argument), "GET"
    form = page.forms[0].method if page.forms else "POST"
    return browser.submit(page, argument), form


def _auto():
    """A layout as wide as its words, so button labels are never cut."""
    return widgets.Layout(width="auto")


def _attacker(lab):
    """The lab's attacker, or an error that says how to start the lab."""
    if lab.attacker is None:
        raise NotRunningError(
            "The lab is not running. Run the cell with "
            "`lab = labapp.start_lab()` first."
        )
    return lab.attacker


def _last_seq(lab):
    """The number of the attacker's newest event, 0 before the first."""
    events = _attacker(lab).events()
    return events[-1].seq if events else 0


def _plain(html):
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))
