"""Stage 06: the session cookie never travels over http:// (Secure)."""

import difflib
from dataclasses import dataclass

from ..cookies import CookieJar
from ..learner import flask_app
from ..network import BANK
from ..strip import cookie_name
from .probe import FORM, LOGIN, send
from .verdict import Finding, Verdict

STAGE = "Secure cookies"
SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
)


@dataclass(frozen=True)
class Observed:
    """What the probes of the cookie check saw."""

    name: str
    secure_login: object
    plain_login: object
    config_keys: tuple


def observe(transport, app=None):
    """Log in over https:// and over http://, as a browser would post."""
    config = getattr(flask_app(app), "config", {})
    return Observed(
        name=config.get("SESSION_COOKIE_NAME", "session"),
        secure_login=send(transport, "POST", f"https://{BANK}/login", FORM, LOGIN),
        plain_login=send(transport, "POST", f"http://{BANK}/login", FORM, LOGIN),
        config_keys=tuple(config),
    )


def evaluate(seen):
    """Judge what was observed; return the `Verdict`."""
    values = _session_values(seen.secure_login, seen.name)
    if not values:
        return Verdict(STAGE, [_no_cookie(seen)])

    jar = CookieJar()
    decisions = jar.receive(seen.secure_login.url, values)
    findings = [
        _set_once(values, seen.name),
        _stored(decisions),
        _secure(values[-1], seen),
        _kept_off_http(jar, seen.name),
        _plain_login_works(seen),
    ]
    findings.extend(_good_practice(values[-1]))
    return Verdict(STAGE, [f for f in findings if f is not None])


def _session_values(exchange, name):
    """The Set-Cookie values for the session cookie in a response."""
    if exchange.response is None:
        return []
    found = exchange.response.header_values("Set-Cookie")
    return [v for v in found if cookie_name(v) == name]


def _attributes(value):
    """The attribute names and values of a Set-Cookie value, lower-cased."""
    found = {}
    for part in value.split(";")[1:]:
        key, _, attr = part.strip().partition("=")
        found[key.strip().lower()] = attr.strip()
    return found


def _no_cookie(seen):
    """The login set no session cookie: the check cannot go on."""
    status = seen.secure_login.response.status if seen.secure_login.response else "none"
    return Finding(
        f"Logging in over https:// sets the {seen.name!r} cookie",
        False,
        f"POST https://{BANK}/login answered {status} without it",
        mistake="no-session-cookie",
        hint="Alice could not log in. Did your change break the login view? "
        "Build your app from `create_bank()` and change only settings or "
        "hooks.",
    )


def _set_once(values, name):
    """Criterion: one Set-Cookie for the session; the last would win."""
    criterion = f"The {name!r} cookie is set once per response"
    if len(values) == 1:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        "; ".join(values),
        mistake="cookie-set-twice",
        hint="Two Set-Cookie headers for the session: the browser keeps the "
        "last. Let Flask set it, and configure it with SESSION_COOKIE_*.",
    )


def _stored(decisions):
    """Criterion: a browser accepts the cookie over https:// (case F11, F12)."""
    criterion = "A browser stores the session cookie sent over https://"
    refused = [d for d in decisions if not d.stored]
    if not refused:
        return Finding(criterion, True)
    decision = refused[-1]
    mistake = {
        "samesite-none-needs-secure": "samesite-none-without-secure",
        "host-prefix": "cookie-prefix",
        "secure-prefix": "cookie-prefix",
    }.get(decision.rule, "cookie-rejected")
    return Finding(
        criterion,
        False,
        f"{decision.name!r} {decision.reason}",
        mistake=mistake,
        hint="Browsers drop this cookie, so Alice is logged out at once. "
        "Fix the attribute the reason names.",
    )


def _secure(value, seen):
    """Criterion: the Secure attribute is there; name a mistyped setting."""
    criterion = "The session cookie has the Secure attribute"
    if "secure" in _attributes(value):
        return Finding(criterion, True)
    typo = difflib.get_close_matches(
        "SESSION_COOKIE_SECURE",
        [key for key in seen.config_keys if key not in SETTINGS],
        n=1,
        cutoff=0.8,
    )
    if typo:
        return Finding(
            criterion,
            False,
            value,
            mistake="config-typo",
            hint=f"app.config has {typo[0]!r}, which Flask ignores: the "
            "setting is 'SESSION_COOKIE_SECURE'.",
        )
    return Finding(
        criterion,
        False,
        value,
        mistake="cookie-not-secure",
        hint="Set app.config['SESSION_COOKIE_SECURE'] = True (in "
        "create_bank's config), so browsers send it over https:// only.",
    )


def _kept_off_http(jar, name):
    """Criterion: the browser would not send it with an http:// request."""
    criterion = "A browser keeps it off http:// requests"
    header = jar.header_for(f"http://{BANK}/offers") or ""
    if name not in [part.split("=")[0].strip() for part in header.split(";")]:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        f"Cookie: {header}",
        hint="Follows from the missing Secure attribute.",
    )


def _plain_login_works(seen):
    """Criterion (cases F10, 03): a login over http:// neither loses nor leaks."""
    criterion = "Logging in over http:// neither loses nor leaks the session"
    values = _session_values(seen.plain_login, seen.name)
    if not values:
        return Finding(criterion, True)
    if "secure" not in _attributes(values[-1]):
        return Finding(
            criterion, False, f"POST http://{BANK}/login set {values[-1]!r}",
            mistake="session-over-http",
            hint="A login over http:// hands out a session cookie without "
            "Secure, which then travels with every http:// request. Make it "
            "Secure in every response (SESSION_COOKIE_SECURE = True), and "
            "redirect to HTTPS first (notebook 04).",
        )
    decisions = CookieJar().receive(seen.plain_login.url, values)
    if all(d.stored for d in decisions):
        return Finding(criterion, True)
    return Finding(
        criterion, False, f"POST http://{BANK}/login set {values[-1]!r}",
        mistake="secure-before-https",
        hint="Rejected, not leaked: the login ran over http:// and answered "
        "with a Secure cookie, which browsers drop there (RFC 6265bis 5.7), "
        "so Alice is logged out. Add the redirect of notebook 04 first.",
    )


def _good_practice(value):
    """Warnings for HttpOnly and SameSite, which do not fail the stage."""
    attrs = _attributes(value)
    found = []
    if "httponly" not in attrs:
        found.append(
            Finding(
                "HttpOnly (good practice)",
                False,
                value,
                warning=True,
                hint="HttpOnly keeps page scripts from reading the session.",
            )
        )
    same_site = attrs.get("samesite", "").capitalize()
    if same_site not in ("Lax", "Strict"):
        found.append(
            Finding(
                "SameSite=Lax or Strict (good practice)",
                False,
                f"SameSite={same_site or 'not set'}",
                warning=True,
                hint="Set SESSION_COOKIE_SAMESITE = 'Lax': other sites' pages "
                "then cannot make Alice's browser send it.",
            )
        )
    return found
