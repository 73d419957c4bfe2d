"""The victim's browser: redirects, HSTS and cookies the way browsers do them.

It keeps a Known HSTS Host store (RFC 6797) and a cookie store with the rules
current browsers apply (RFC 6265bis), follows redirects itself so that each
hop passes through both, and writes down what it stored and why.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

from .cookies import CookieJar
from .errors import BrowserError
from .hsts import HstsStore
from .html import links_and_forms

MAX_REDIRECTS = 20
_REDIRECTS = (301, 302, 303, 307, 308)
_HEADERS = {
    "User-Agent": "labapp-victim/1.0",
    "Accept": "text/html,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate",
    "Upgrade-Insecure-Requests": "1",
}


@dataclass(frozen=True)
class Hop:
    """One step on the way to a page: a response, or an internal upgrade."""

    method: str
    url: str
    status: int
    note: str = ""


@dataclass
class Page:
    """A page as the victim received it, after every redirect."""

    url: str
    status: int
    headers: object
    text: str
    hops: list = field(default_factory=list)
    links: list = field(default_factory=list)
    forms: list = field(default_factory=list)

    @property
    def secure(self):
        """Whether the address bar would show a lock (the page came over TLS)."""
        return urlsplit(self.url).scheme == "https"

    @property
    def address_bar(self):
        """The address bar as text: a lock or "Not secure", then the URL."""
        return ("[lock] " if self.secure else "[Not secure] ") + self.url


class Browser:
    """A browser for one victim, through the attacker or straight to the bank."""

    def __init__(self, transport):
        self.transport = transport
        self.hsts = HstsStore()
        self.jar = CookieJar()
        self.journal = []

    def open(self, url):
        """Load `url` as if typed in the address bar; a bare name means http://."""
        if "://" not in url:
            url = "http://" + url
        if not urlsplit(url).path:
            url += "/"
        return self.request("GET", url)

    def follow(self, page, text):
        """Click the link on `page` whose text is `text`."""
        for link in page.links:
            if link.text == text:
                return self.request("GET", link.url)
        names = ", ".join(repr(link.text) for link in page.links) or "none"
        raise BrowserError(f"No link {text!r} on {page.url}; its links: {names}.")

    def submit(self, page, fields, form=0):
        """Fill in form number `form` of `page` with `fields` and submit it."""
        if form >= len(page.forms):
            raise BrowserError(f"{page.url} has no form number {form}.")
        chosen = page.forms[form]
        unknown = set(fields) - set(chosen.fields)
        if unknown:
            raise BrowserError(
                f"The form on {page.url} has no field {sorted(unknown)}; "
                f"it has {sorted(chosen.fields)}."
            )
        data = urlencode({**chosen.fields, **fields})
        if chosen.method == "POST":
            return self.request("POST", chosen.action, body=data)
        return self.request("GET", urljoin(chosen.action, "?" + data))

    def forget(self):
        """Become a first-time visitor: no HSTS entries, no cookies."""
        self.hsts.forget()
        self.jar.clear()
        self.journal.clear()

    def request(self, method, url, body=None, headers=None):
        """Send a request and follow redirects, as a browser does."""
        hops = []
        for _ in range(MAX_REDIRECTS + 1):
            url = self._upgrade(method, url, hops)
            response = self._send(method, url, body, headers)
            self._remember(url, response)

            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or location is None:
                return self._page(url, response, hops)

            hops.append(Hop(method, url, response.status))
            url = urljoin(url, location)
            # Fetch 4.4: 301/302 turn a POST into a GET, 303 anything but
            # HEAD; 307 and 308 repeat the request as it was.
            if (response.status == 303 and method != "HEAD") or (
                response.status in (301, 302) and method == "POST"
            ):
                method, body = "GET", None
        raise BrowserError(
            f"Too many redirects (more than {MAX_REDIRECTS}) from {hops[0].url}: "
            "the site redirects in a loop (a browser shows "
            "ERR_TOO_MANY_REDIRECTS)."
        )

    def _upgrade(self, method, url, hops):
        """RFC 6797 8.3: turn http:// into https:// for a Known HSTS Host."""
        upgraded = self.hsts.upgrade(url)
        if upgraded is None:
            return url
        hops.append(Hop(method, url, 307, "HSTS: upgraded before sending"))
        self.journal.append(f"HSTS upgraded {url} to {upgraded} before sending.")
        return upgraded

    def _send(self, method, url, body, extra):
        """Send one request with this browser's cookies."""
        headers = dict(_HEADERS)
        cookie = self.jar.header_for(url)
        if cookie:
            headers["Cookie"] = cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers.update(extra or {})
        return self.transport.send(method, url, headers=headers, body=body)

    def _remember(self, url, response):
        """Let the HSTS store and the cookie store see a response."""
        parts = urlsplit(url)
        sts = response.header_values("Strict-Transport-Security")
        if sts:
            notice = self.hsts.note(parts.hostname, sts, scheme=parts.scheme)
            self.journal.append(f"{url}: {notice.reason}")
        set_cookies = response.header_values("Set-Cookie")
        for decision in self.jar.receive(url, set_cookies):
            self.journal.append(f"{url}: cookie {decision.name!r} {decision.reason}")

    def _page(self, url, response, hops):
        """Build the `Page` the victim sees."""
        text = response.text
        links, forms = links_and_forms(url, text)
        return Page(url, response.status, response.headers, text, hops, links, forms)
