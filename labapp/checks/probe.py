"""Probing the learner's running site the way browsers and scanners do."""

from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from ..bank import PASSWORD, USER
from ..errors import BrowserError
from ..network import BANK

REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_HOPS = 10

# The responses a check looks at: pages, a 404, a redirect and a POST, and
# /offers, which the bank links to with a hard-coded http:// URL (lesson 03).
PATHS = ("/", "/login", "/account?x=1", "/offers", "/no-such-page", "/logout")
LOGIN = urlencode({"username": USER, "password": PASSWORD})
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Exchange:
    """One request the check sent, and the response it got (or None)."""

    method: str
    url: str
    response: object
    error: str = ""

    @property
    def label(self):
        """The request in a few words, for a verdict."""
        return f"{self.method} {self.url}"

    @property
    def location(self):
        """The absolute redirect target, or None if this is no redirect."""
        response = self.response
        if response is None or response.status not in REDIRECT_CODES:
            return None
        target = response.headers.get("Location")
        return urljoin(self.url, target) if target else None


def send(transport, method, url, headers=None, body=None):
    """Send one probe; a failure to connect becomes part of the exchange."""
    try:
        response = transport.send(method, url, headers=headers, body=body)
    except BrowserError as err:
        # Including a target outside the lab, which is never contacted.
        return Exchange(method, url, None, str(err))
    return Exchange(method, url, response)


def pages(transport, scheme):
    """GET every probed path, then POST the login form, over `scheme`."""
    found = [send(transport, "GET", f"{scheme}://{BANK}{path}") for path in PATHS]
    found.append(send(transport, "POST", f"{scheme}://{BANK}/login", FORM, LOGIN))
    return found


def follow(transport, url):
    """Follow redirects from `url`; return the exchanges and a loop flag."""
    chain, seen = [], set()
    for _ in range(MAX_HOPS):
        if url in seen:
            return chain, True
        seen.add(url)
        hop = send(transport, "GET", url)
        chain.append(hop)
        if hop.location is None:
            return chain, False
        url = hop.location
    return chain, True
