"""HTTP Strict Transport Security (RFC 6797): header parsing and known hosts.

The victim browser keeps an `HstsStore`; the stage checks call `parse_sts` to
tell a learner exactly what is wrong with their header.
"""

import dataclasses
import ipaddress
import itertools
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from labapp.errors import LabError

# RFC 6797 6.1 uses the RFC 2616 token and quoted-string rules, with
# optional whitespace (implied LWS) between the pieces.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_LEXEME = re.compile(
    rf"""
    (?P<token>{_TOKEN})
    | (?P<quoted>"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\x00-\x7f])*")
    | (?P<unclosed>".*)
    | (?P<space>[ \t]+)
    | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# Directive names by their letters alone, to spot one split by a space.
_KNOWN = {"maxage": "max-age", "includesubdomains": "includeSubDomains"}
_QUOTE_LOOKALIKES = ("'", "\u2018", "\u2019", "\u201c", "\u201d")

# RFC 9111 1.2.2: a delta-seconds too large to keep is taken as 2**31.
_MAX_SECONDS = 2**31

# The sentence a learner reads for each mistake code; {value} is the header.
_HINTS = {
    "empty": "The Strict-Transport-Security header is empty; give it a value "
    "such as 'max-age=31536000'.",
    "leading-colon": "The value {value} starts with ':'; that colon belongs "
    "between the header name and its value, so remove it (RFC 6797 6.1).",
    "colon-for-equals": "In {value}, {name} is followed by ':' instead of "
    "'='; write '{name}={shown}' (RFC 6797 6.1).",
    "missing-semicolon": "In {value}, {problem}; separate directives with "
    "';', e.g. 'max-age=31536000; includeSubDomains' (RFC 6797 6.1).",
    "split-directive": "In {value}, the directive name {words!r} has a space "
    "inside; write it as one word, {spelled!r} (RFC 6797 6.1).",
    "missing-max-age": "The value {value} has no max-age directive; add one, "
    "e.g. 'max-age=31536000' (RFC 6797 6.1.1).",
    "duplicate-directive": "In {value}, {name} appears more than once; give "
    "each directive only once (RFC 6797 6.1, rule 2).",
    "bad-max-age": "In {value}, max-age is {shown}, but {hint} "
    "(RFC 6797 6.1.1).",
    "quoted-bad": "In {value}, {raw!r} is not a valid quoted value; use "
    "straight double quotes closed on both sides, or no quotes "
    "(RFC 6797 6.1).",
    "other": "In {value}, {problem}; the header must read like "
    "'max-age=<seconds>; includeSubDomains', directives separated by ';' "
    "(RFC 6797 6.1).",
}


class StsSyntaxError(LabError, ValueError):
    """A Strict-Transport-Security value that browsers must ignore whole."""

    def __init__(self, message: str, mistake: str):
        super().__init__(message)
        self.mistake = mistake


@dataclass(frozen=True)
class StsPolicy:
    """The directives of one valid Strict-Transport-Security value."""

    max_age: int
    include_subdomains: bool
    preload: bool


def parse_sts(value: str) -> StsPolicy:
    """Parse a Strict-Transport-Security value, or raise `StsSyntaxError`."""
    if not value.strip(" \t"):
        raise _error("empty", value)
    if value.lstrip(" \t").startswith(":"):
        raise _error("leading-colon", value)

    # RFC 6797 6.1: directives are separated by ';' and may be empty.
    directives: list[list[str]] = [[]]
    for match in _LEXEME.finditer(value):
        if match.group() == ";":
            directives.append([])
        elif match.lastgroup == "unclosed":
            raise _error("quoted-bad", value, raw=match.group())
        elif match.lastgroup != "space":
            directives[-1].append(match.group())

    # RFC 6797 6.1 rule 2: each directive appears at most once.
    found: dict[str, str | None] = {}
    for lexemes in filter(None, directives):
        name, directive_value = _directive(value, lexemes)
        if name in found:
            raise _error("duplicate-directive", value, name=lexemes[0])
        if name == "includesubdomains" and directive_value is not None:
            problem = "includeSubDomains takes no value, write it alone"
            raise _error("other", value, problem=problem)
        found[name] = directive_value

    if "max-age" not in found:
        raise _error("missing-max-age", value)
    return StsPolicy(
        max_age=_max_age(value, found["max-age"]),
        include_subdomains="includesubdomains" in found,
        preload="preload" in found,
    )


def _directive(value: str, lexemes: list[str]) -> tuple[str, str | None]:
    """Return the lowercased name and unquoted value of one directive."""
    name, rest = lexemes[0], lexemes[1:]
    key = name.lower()
    if not _is_token(name):
        problem = f"a directive cannot start with {name!r}"
        raise _error("other", value, problem=problem)
    if not rest:
        return key, None

    if rest[0] == ":" and key == "strict-transport-security":
        problem = "the header name is repeated inside the value"
        raise _error("other", value, problem=problem)
    if rest[0] == ":":
        shown = rest[1] if len(rest) > 1 else "..."
        raise _error("colon-for-equals", value, name=name, shown=shown)
    if rest[0] != "=":
        raise _not_separated(value, lexemes)

    raw = "".join(rest[1:2])
    if raw.startswith(_QUOTE_LOOKALIKES) and (
        key == "max-age" or not _is_token(raw)
    ):
        raise _error("quoted-bad", value, raw="".join(rest[1:]))
    if key == "max-age" and not (raw.startswith('"') or _is_token(raw)):
        return key, "".join(rest[1:])
    if len(rest) > 2:
        raise _not_separated(value, [f"{name}={raw}", *rest[2:]])
    if raw.startswith('"'):
        return key, re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.S)
    if not _is_token(raw):
        problem = f"{name}= needs a value of letters, digits or quotes"
        raise _error("other", value, problem=problem)
    return key, raw


def _not_separated(value: str, lexemes: list[str]) -> StsSyntaxError:
    """Explain two pieces that follow each other without a ';' between them."""
    first, second = lexemes[0], lexemes[1]
    if second == ",":
        problem = "directives are separated by ',' instead of ';'"
        return _error("missing-semicolon", value, problem=problem)
    if not _is_token(second):
        problem = f"{second!r} cannot follow {first!r}"
        return _error("other", value, problem=problem)

    # A directive name typed with a space inside reads as two words.
    words = list(itertools.takewhile(_is_token, lexemes))
    for end in range(2, len(words) + 1):
        spelled = _KNOWN.get("".join(words[:end]).lower().replace("-", ""))
        if spelled is not None:
            split = " ".join(words[:end])
            return _error(
                "split-directive", value, words=split, spelled=spelled
            )
    if first.lower() == "max-age":
        problem = "max-age needs '=' before its number"
        return _error("other", value, problem=problem)
    problem = f"{first!r} and {second!r} have no ';' between them"
    return _error("missing-semicolon", value, problem=problem)


def _max_age(value: str, raw: str | None) -> int:
    """Return max-age as seconds; RFC 6797 6.1.1 allows digits only."""
    if raw and re.fullmatch(r"[0-9]+", raw):
        return int(raw)
    if raw and re.fullmatch(r"-[0-9]+", raw):
        hint = "a negative age is void; give seconds, or 0 to switch HSTS off"
    else:
        hint = "it must be a whole number of seconds, e.g. max-age=31536000"
    shown = repr(raw) if raw else "empty"
    raise _error("bad-max-age", value, shown=shown, hint=hint)


def _error(mistake: str, value: str, **details: str) -> StsSyntaxError:
    """Build the error for one mistake code, worded from `_HINTS`."""
    message = _HINTS[mistake].format(value=repr(value), **details)
    return StsSyntaxError(message, mistake)


def _is_token(text: str) -> bool:
    """Tell whether text is an RFC 2616 token."""
    return re.fullmatch(_TOKEN, text) is not None


@dataclass(frozen=True)
class Notice:
    """What an `HstsStore` did with the STS header of one response."""

    host: str
    stored: bool
    reason: str
    policy: StsPolicy | None = None
    mistake: str | None = None


@dataclass(frozen=True)
class _Entry:
    """One Known HSTS Host's policy and the clock time it expires at."""

    policy: StsPolicy
    expires: float


class HstsStore:
    """The browser's Known HSTS Hosts (RFC 6797 8.1 to 8.3)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def note(
        self, host: str, values: list[str], *, scheme: str, tls_ok: bool = True
    ) -> Notice:
        """Process the STS header values of one response from host."""
        host = _canonical(host)
        if scheme.lower() != "https":
            reason = (
                "ignored: Strict-Transport-Security received over http:// "
                "(RFC 6797 8.1); send it on https:// responses"
            )
            return Notice(host, False, reason)
        if not tls_ok:
            reason = (
                f"ignored: the TLS connection to {host} had errors, so its "
                "Strict-Transport-Security cannot be trusted (RFC 6797 8.1)"
            )
            return Notice(host, False, reason)
        if _is_ip(host):
            reason = (
                f"ignored: {host} is an IP address, and only domain names "
                "can be Known HSTS Hosts (RFC 6797 8.1.1)"
            )
            return Notice(host, False, reason)
        if not values:
            reason = "not noted: the response has no Strict-Transport-Security"
            return Notice(host, False, reason)

        # RFC 6797 8.1: only the first STS header field is processed.
        notice = self._note_first(host, values[0])
        if len(values) > 1:
            extra = (
                f"; only the first of {len(values)} Strict-Transport-Security "
                "headers counts (RFC 6797 8.1)"
            )
            notice = dataclasses.replace(notice, reason=notice.reason + extra)
        return notice

    def _note_first(self, host: str, value: str) -> Notice:
        """Store, update or remove host's entry from one header value."""
        try:
            policy = parse_sts(value)
        except StsSyntaxError as err:
            reason = (
                "ignored: a header that breaks the grammar is void "
                f"(RFC 6797 6.1). {err}"
            )
            return Notice(host, False, reason, mistake=err.mistake)

        # RFC 6797 6.1.1, 8.1.1: max-age=0 forgets this host's own entry.
        if policy.max_age == 0:
            old = self._entries.pop(host, None)
            if old is None:
                reason = (
                    f"not noted: max-age=0 asks to forget {host}, which was "
                    "not a Known HSTS Host (RFC 6797 8.1.1)"
                )
            else:
                reason = (
                    f"removed: max-age=0 made the browser forget {host} "
                    "as a Known HSTS Host (RFC 6797 6.1.1)"
                )
            return Notice(host, False, reason, policy)

        seconds = min(policy.max_age, _MAX_SECONDS)
        self._entries[host] = _Entry(policy, self._clock() + seconds)
        scope = " and its subdomains" if policy.include_subdomains else ""
        unit = "second" if policy.max_age == 1 else "seconds"
        reason = (
            f"noted: {host}{scope} will be reached over https:// only, for "
            f"{policy.max_age} {unit} (RFC 6797 8.1.1)"
        )
        return Notice(host, True, reason, policy)

    def is_known(self, host: str) -> bool:
        """Tell whether host matches a live entry, per RFC 6797 8.2."""
        host = _canonical(host)
        if _is_ip(host):
            return False
        self._purge()
        if host in self._entries:
            return True

        # RFC 6797 8.2: superdomain matches compare whole labels.
        labels = host.split(".")
        for start in range(1, len(labels)):
            entry = self._entries.get(".".join(labels[start:]))
            if entry is not None and entry.policy.include_subdomains:
                return True
        return False

    def upgrade(self, url: str) -> str | None:
        """Return the https:// URL to load instead of url, or None."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            return None
        if not self.is_known(parts.hostname):
            return None
        try:
            port = parts.port
        except ValueError as err:
            raise ValueError(
                f"The URL {url!r} has a port that is not a number from 0 to "
                "65535; fix the port before loading it."
            ) from err

        # RFC 6797 8.3: port 80 becomes the https default; others stay.
        netloc = parts.hostname
        if port is not None and port != 80:
            netloc = f"{netloc}:{port}"
        userinfo, at, _ = parts.netloc.rpartition("@")
        return urlunsplit(
            ("https", userinfo + at + netloc, parts.path, parts.query,
             parts.fragment)
        )

    def entries(self) -> dict[str, StsPolicy]:
        """Return the live Known HSTS Hosts and their policies."""
        self._purge()
        return {host: entry.policy for host, entry in self._entries.items()}

    def remove(self, host: str) -> bool:
        """Forget one host's own entry; tell whether there was one."""
        return self._entries.pop(_canonical(host), None) is not None

    def forget(self) -> None:
        """Forget every Known HSTS Host."""
        self._entries.clear()

    def _purge(self) -> None:
        """Drop expired entries (RFC 6797 8.1.1: the policy has an expiry)."""
        now = self._clock()
        self._entries = {
            host: entry
            for host, entry in self._entries.items()
            if entry.expires > now
        }


def _canonical(host: str) -> str:
    """Lowercase host and drop a trailing dot, so equal names compare equal."""
    host = host.lower()
    return host[:-1] if host.endswith(".") else host


def _is_ip(host: str) -> bool:
    """Tell whether host is an IPv4 or IPv6 literal (RFC 3986 3.2.2)."""
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True
