"""A browser's cookie store, with the rules current browsers apply.

It follows RFC 6265bis (the cookie RFC's successor draft): Secure cookies
only from https://, cookie name prefixes, SameSite=None needing Secure, and
http:// pages leaving Secure cookies alone.
"""

import ipaddress
import re
import time
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

# RFC 6265bis 5.6.1, 5.6.2: a cookie lives at most 400 days.
_AGE_LIMIT = 400 * 24 * 60 * 60
# RFC 6265bis 5.6: control characters other than HTAB void the line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


@dataclass
class Cookie:
    """One stored cookie; times are in the jar's clock."""

    name: str
    value: str
    domain: str
    host_only: bool
    path: str
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    expires: float | None = None
    created: float = 0.0


@dataclass(frozen=True)
class CookieDecision:
    """What the jar did with one Set-Cookie value, and the rule that decided."""

    name: str
    stored: bool
    reason: str
    rule: str | None = None
    cookie: Cookie | None = None


class _Rejected(Exception):
    """A Set-Cookie value the browser ignores; carries the rule's code."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class _Origin:
    """The parts of a request URL that the cookie rules look at."""

    secure: bool
    host: str
    path: str


class CookieJar:
    """Cookies of one browser, set by responses and sent with requests.

    A Set-Cookie value without '=' is rejected, and so is an empty name:
    browsers would keep such a nameless cookie, but the lab never needs one.
    The victim only makes same-site top-level navigations, so SameSite is
    recorded but never withholds a cookie here.
    """

    def __init__(self, clock=time.time):
        self._clock = clock
        self._cookies: list[Cookie] = []

    def receive(
        self, url: str, set_cookie_values: list[str]
    ) -> list[CookieDecision]:
        """Store what the Set-Cookie values of a response from url allow."""
        origin = _origin(url)
        now = self._clock()
        self._evict()
        decisions = []
        for raw in set_cookie_values:
            try:
                decisions.append(self._store(origin, raw, now))
            except _Rejected as rejected:
                decisions.append(
                    CookieDecision(
                        _name_of(raw), False, rejected.reason, rejected.rule
                    )
                )
        return decisions

    def header_for(self, url: str) -> str | None:
        """Return the Cookie header for a request to url, or None if empty."""
        origin = _origin(url)
        self._evict()
        chosen = [
            cookie
            for cookie in self._cookies
            if _host_matches(origin.host, cookie)
            and _path_matches(origin.path, cookie.path)
            and (origin.secure or not cookie.secure)
        ]
        if not chosen:
            return None

        # RFC 6265 5.4 step 2: longer paths first, then older cookies.
        chosen.sort(key=lambda cookie: (-len(cookie.path), cookie.created))
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in chosen)

    def cookies(self) -> list[Cookie]:
        """Return the live cookies in the order they were first set."""
        self._evict()
        return list(self._cookies)

    def clear(self) -> None:
        """Forget every cookie."""
        self._cookies.clear()

    def _store(self, origin: _Origin, raw: str, now: float) -> CookieDecision:
        """Apply RFC 6265bis 5.7 to one value; raise `_Rejected` to ignore it."""
        cookie, path_given = _parse(raw, origin, now)
        _check_prefixes(cookie, origin, path_given)
        self._check_secure(cookie, origin)

        # RFC 6265bis 5.7: a cookie with the same name, domain, host-only
        # flag and path is replaced, keeping its creation time.
        for index, old in enumerate(self._cookies):
            if _slot(old) == _slot(cookie):
                cookie.created = old.created
                if _expired(cookie, now):
                    del self._cookies[index]
                    reason = (
                        "deleted: an expiry in the past removes the stored "
                        "cookie (RFC 6265bis 5.7)"
                    )
                    return CookieDecision(cookie.name, False, reason, "deleted")
                self._cookies[index] = cookie
                return _stored(cookie, "replaced")

        if _expired(cookie, now):
            reason = (
                "not stored: it expired on arrival, and there was no cookie "
                "of that name to delete (RFC 6265bis 5.7)"
            )
            return CookieDecision(cookie.name, False, reason, "expired")
        self._cookies.append(cookie)
        return _stored(cookie, "stored")

    def _check_secure(self, cookie: Cookie, origin: _Origin) -> None:
        """Apply the Secure and SameSite=None steps of RFC 6265bis 5.7."""
        if cookie.secure and not origin.secure:
            raise _Rejected(
                "secure-from-http",
                "rejected: a Secure cookie cannot be set from http:// "
                "(RFC 6265bis 5.7), so it was not stored; serve the page "
                "over https:// first",
            )

        # RFC 6265bis 5.7, "leave Secure cookies alone": plain http:// may
        # neither overwrite nor shadow a Secure cookie of the same name.
        if not origin.secure:
            for old in self._cookies:
                if (
                    old.secure
                    and old.name == cookie.name
                    and _domains_overlap(old.domain, cookie.domain)
                    and _path_matches(cookie.path, old.path)
                ):
                    raise _Rejected(
                        "overwrite-secure",
                        "rejected: an http:// response cannot overwrite or "
                        f"shadow the Secure cookie {old.name} set over "
                        "https:// (RFC 6265bis 5.7)",
                    )

        if cookie.same_site == "None" and not cookie.secure:
            raise _Rejected(
                "samesite-none-needs-secure",
                "rejected: SameSite=None needs Secure as well "
                "(RFC 6265bis 5.7); add Secure, or use SameSite=Lax",
            )

    def _evict(self) -> None:
        """Drop expired cookies, as RFC 6265bis 5.7 requires at any time."""
        now = self._clock()
        self._cookies = [c for c in self._cookies if not _expired(c, now)]


def _origin(url: str) -> _Origin:
    """Read the scheme, host and path that the cookie rules need from url."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(
            f"The URL {url!r} has no host, so no cookie can belong to it; "
            "pass a full URL such as 'https://bank.test/login'."
        )
    return _Origin(
        parts.scheme.lower() == "https", parts.hostname, parts.path or "/"
    )


def _parse(raw: str, origin: _Origin, now: float) -> tuple[Cookie, bool]:
    """Parse a Set-Cookie value (RFC 6265bis 5.6) into a cookie for origin.

    The cookie's domain is already checked; the flag returned tells whether
    a Path attribute was given, which __Host- requires.
    """
    if _CONTROL.search(raw):
        raise _Rejected(
            "syntax",
            "rejected: the Set-Cookie value contains a control character "
            "(RFC 6265bis 5.6)",
        )
    pair, _, attributes = raw.partition(";")
    name, equals, value = pair.partition("=")
    name, value = name.strip(" \t"), value.strip(" \t")
    if not equals or not name:
        raise _Rejected(
            "syntax",
            f"rejected: {pair.strip()!r} is not name=value; this lab keeps "
            "no nameless cookies (RFC 6265bis 5.6)",
        )
    default_path = _default_path(origin.path)
    cookie = Cookie(name, value, origin.host, True, default_path, created=now)

    # RFC 6265bis 5.6: attribute names are case-insensitive and the last
    # of each kind wins; Max-Age beats Expires whatever their order.
    max_age = expires = domain = None
    path_given = False
    for attribute in attributes.split(";"):
        key, _, arg = attribute.partition("=")
        key, arg = key.strip(" \t").lower(), arg.strip(" \t")
        if key == "max-age" and re.fullmatch(r"-?[0-9]+", arg):
            max_age = now + min(int(arg), _AGE_LIMIT)
        elif key == "expires" and (when := _http_date(arg)) is not None:
            expires = min(when, now + _AGE_LIMIT)
        elif key == "domain" and arg:
            domain = arg.removeprefix(".").lower()
        elif key == "path":
            path_given = True
            cookie.path = arg if arg.startswith("/") else default_path
        elif key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
        elif key == "samesite":
            cookie.same_site = _SAME_SITE.get(arg.lower())
    cookie.expires = max_age if max_age is not None else expires

    if domain is not None:
        _apply_domain(cookie, domain, origin.host)
    return cookie, path_given


def _apply_domain(cookie: Cookie, domain: str, host: str) -> None:
    """Widen cookie to domain, if RFC 6265bis 5.7 lets host set that."""
    # RFC 6265bis 5.7: a public suffix (here any single label, such as
    # "test") is allowed only as the host itself, and then means host-only.
    if "." not in domain:
        if domain == host:
            return
        raise _Rejected(
            "public-suffix",
            f"rejected: Domain={domain} is a public suffix, so the cookie "
            "would reach every site under it (RFC 6265bis 5.7)",
        )
    if not _domain_matches(host, domain):
        raise _Rejected(
            "domain-mismatch",
            f"rejected: Domain={domain} does not cover {host}, the host "
            "that set it (RFC 6265bis 5.7)",
        )
    cookie.domain, cookie.host_only = domain, False


def _check_prefixes(cookie: Cookie, origin: _Origin, path_given: bool) -> None:
    """Apply the __Secure- and __Host- name prefixes (RFC 6265bis 4.1.3)."""
    problems = []
    if not cookie.secure:
        problems.append("it lacks Secure")
    if not origin.secure:
        problems.append("it came from http://")
    lowered = cookie.name.lower()
    if lowered.startswith("__secure-") and problems:
        raise _Rejected(
            "secure-prefix",
            "rejected: a __Secure- cookie must have Secure and come from "
            f"https:// (RFC 6265bis 4.1.3.1), but {' and '.join(problems)}",
        )
    if not lowered.startswith("__host-"):
        return

    if not cookie.host_only:
        problems.append("it has a Domain attribute")
    if not path_given:
        problems.append("it has no Path attribute")
    elif cookie.path != "/":
        problems.append(f"its Path is {cookie.path}, not /")
    if problems:
        raise _Rejected(
            "host-prefix",
            "rejected: a __Host- cookie must have Secure, come from "
            "https://, have Path=/ and no Domain (RFC 6265bis 4.1.3.2), "
            f"but {', '.join(problems)}",
        )


def _stored(cookie: Cookie, verb: str) -> CookieDecision:
    """Describe a stored cookie: where it goes and its flags."""
    scope = "" if cookie.host_only else " and its subdomains"
    # Say "not Secure" too: that is the weakness lessons 03 and 06 are about.
    flags = ["Secure" if cookie.secure else "not Secure: also sent over http://"]
    if cookie.http_only:
        flags.append("HttpOnly")
    if cookie.same_site:
        flags.append(f"SameSite={cookie.same_site}")
    shown = f" ({', '.join(flags)})" if flags else ""
    reason = (
        f"{verb}: it goes to {cookie.domain}{scope} for paths under "
        f"{cookie.path}{shown}"
    )
    return CookieDecision(cookie.name, True, reason, None, cookie)


def _name_of(raw: str) -> str:
    """Return the cookie name a Set-Cookie value tries to set, for reports."""
    return raw.partition(";")[0].partition("=")[0].strip(" \t")


def _http_date(text: str) -> float | None:
    """Return an Expires date as a POSIX time, or None if unreadable."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _default_path(request_path: str) -> str:
    """Return the cookie path when Path is absent (RFC 6265 5.1.4)."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def _path_matches(request_path: str, cookie_path: str) -> bool:
    """Tell whether request_path is inside cookie_path (RFC 6265 5.1.4)."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


def _domain_matches(host: str, domain: str) -> bool:
    """Tell whether host is domain or a name under it (RFC 6265 5.1.3)."""
    if host == domain:
        return True
    # RFC 6265 5.1.3: suffixes count for names only, never IP addresses.
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.endswith("." + domain)
    return False


def _domains_overlap(first: str, second: str) -> bool:
    """Tell whether either domain domain-matches the other."""
    return _domain_matches(first, second) or _domain_matches(second, first)


def _host_matches(host: str, cookie: Cookie) -> bool:
    """Tell whether a cookie belongs to host: exactly if host-only."""
    if cookie.host_only:
        return host == cookie.domain
    return _domain_matches(host, cookie.domain)


def _slot(cookie: Cookie) -> tuple[str, str, bool, str]:
    """Return what a cookie is replaced by: name, domain, host-only, path."""
    return (cookie.name, cookie.domain, cookie.host_only, cookie.path)


def _expired(cookie: Cookie, now: float) -> bool:
    """Tell whether cookie's expiry time has come."""
    return cookie.expires is not None and cookie.expires <= now
