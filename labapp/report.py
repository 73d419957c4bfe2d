"""Plain-text views of what happened, for notebooks and for nbval.

Each function returns a string; the notebook decides to print it. No ports,
times or session ids appear, so outputs stay the same from run to run.
"""

import re

_TAGS = re.compile(r"<[^>]+>")


def page(page):
    """The victim's screen: address bar, the redirects on the way, the text."""
    lines = [page.address_bar]
    for hop in page.hops:
        note = f" ({hop.note})" if hop.note else ""
        lines.append(f"  via {hop.method} {hop.url} -> {hop.status}{note}")
    lines.append(f"  status {page.status}: {visible_text(page.text)}")
    return "\n".join(lines)


def visible_text(html, limit=200):
    """The words of an HTML page without its tags, cut to `limit` characters."""
    text = " ".join(_TAGS.sub(" ", html).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Dropping the victim's own Upgrade-Insecure-Requests header is routine; the
# screen shows what the attacker changed in what the bank sent.
_ROUTINE = {"upgrade-insecure-requests"}


def attacker_screen(events):
    """The attacker's screen: one line for each thing it saw, in order."""
    lines = [_describe(event) for event in events if not _routine(event)]
    return "\n".join(lines) or "The attacker saw nothing."


def _routine(event):
    """Whether an event is only the routine rewrite of a request header."""
    return event.kind == "strip" and set(event.data["rewrites"]) <= _ROUTINE


def _describe(event):
    """One event as a sentence."""
    kind, d = event.kind, event.data
    if kind == "request":
        return f"READ     {d['method']} {d['url']} (sent on as {d['upstream']})"
    if kind == "form":
        return f"STOLEN   form fields {d['fields']} from {d['url']}"
    if kind == "cookie":
        return f"STOLEN   cookies {_mask(d['cookies'])} from {d['url']}"
    if kind == "tunnel":
        return f"BLIND    encrypted tunnel to {d['host']}:{d['port']}, unreadable"
    if kind == "strip":
        return f"REWROTE  {d['url']}: {'; '.join(rewrite_words(d['rewrites']))}"
    if kind == "refused":
        return f"REFUSED  {d['host']}:{d['port']} (outside the lab)"
    return f"{kind.upper():8} {d}"


def rewrite_words(labels):
    """The addon's rewrite labels as short phrases, routine ones left out."""
    words = []
    for label in labels:
        if label in _ROUTINE:
            continue
        kind, _, detail = label.partition(":")
        words.append({
            "body-links": f"https:// links to {detail} turned to http://",
            "location": "redirect turned to http://",
            "sts": "removed Strict-Transport-Security",
            "csp": "removed the CSP upgrade",
            "set-cookie": f"removed Secure from cookie {detail}",
            "prefixed-cookie-kept": f"could not touch cookie {detail} (prefixed)",
            "body-undecodable": "left a body it could not decode alone",
        }.get(kind, label))
    return words


def _mask(cookies):
    """Cookie values shortened: enough to recognise, stable to print."""
    return {name: _short(value) for name, value in cookies.items()}


def _short(value):
    return value if len(value) <= 12 else value[:8] + "..."


def journal(browser):
    """What the victim's browser stored, refused and upgraded, and why."""
    # The same notice from two responses in a row says nothing new.
    lines = [
        line for i, line in enumerate(browser.journal)
        if i == 0 or line != browser.journal[i - 1]
    ]
    return "\n".join(lines) or "The browser stored nothing."
