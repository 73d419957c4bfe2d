"""Stage 05: every HTTPS response tells browsers to stay on HTTPS (RFC 6797)."""

from dataclasses import dataclass

from ..browser import Browser
from ..errors import BrowserError
from ..hsts import StsSyntaxError, parse_sts
from ..learner import hook_names
from ..network import BANK
from .probe import pages
from .verdict import Finding, Verdict

STAGE = "Strict-Transport-Security"
SIX_MONTHS = 15552000
YEAR = 31536000
HEADER = "Strict-Transport-Security"


@dataclass(frozen=True)
class Observed:
    """What the probes of the HSTS check saw."""

    secure: list
    plain: list
    upgraded: bool
    hooks: list


def observe(transport, app=None):
    """Probe the running site, then let a fresh browser try to note HSTS."""
    browser = Browser(transport)
    try:
        browser.open(f"https://{BANK}/")
    except BrowserError:
        pass  # The probes below report what is wrong with the site.
    return Observed(
        secure=pages(transport, "https"),
        plain=pages(transport, "http"),
        upgraded=browser.hsts.upgrade(f"http://{BANK}/") is not None,
        hooks=hook_names(app, "after_request"),
    )


def evaluate(seen):
    """Judge what was observed; return the `Verdict`."""
    carried = [e for e in seen.secure if _values(e)]
    findings = [_on_every_response(seen, carried)]
    if carried:
        findings.append(_exactly_one(carried))
        findings.extend(_valid_and_long(carried))
    findings.append(_browser_notes_it(seen.upgraded))
    findings.extend(_warnings(seen))
    return Verdict(STAGE, findings, _notes(carried))


def _values(exchange):
    """The STS header values of a response, in order."""
    if exchange.response is None:
        return []
    return exchange.response.header_values(HEADER)


def _on_every_response(seen, carried):
    """Criterion: the header is on every HTTPS response (case F01)."""
    criterion = "Every HTTPS response carries Strict-Transport-Security"
    missing = [e for e in seen.secure if e not in carried]
    if not missing:
        return Finding(criterion, True)
    detail = "missing on " + "; ".join(_label(e) for e in missing)
    if carried:
        return Finding(
            criterion,
            False,
            detail,
            mistake="hsts-some-pages",
            hint="Set it on every HTTPS response: in an `@app.after_request` "
            "function (it runs for redirects and errors too), with no "
            "condition but `request.is_secure`, not in a view.",
        )
    if any(_values(e) for e in seen.plain):
        return Finding(
            criterion,
            False,
            detail,
            mistake="hsts-http-only",
            hint="The header is sent over http:// only, where browsers "
            "ignore it (RFC 6797 8.1). Send it on HTTPS responses.",
        )
    if seen.hooks:
        return Finding(
            criterion, False, detail, mistake="hsts-not-returned",
            hint=f"Your app has an after_request function ({', '.join(seen.hooks)})"
            f" but no response carries the header. Does it set "
            f"response.headers['{HEADER}'] and `return response`?",
        )
    return Finding(
        criterion,
        False,
        detail,
        mistake="no-hsts",
        hint="Add an `@app.after_request` function that sets "
        f"response.headers['{HEADER}'] = 'max-age={YEAR}' when "
        "`request.is_secure`, and returns the response.",
    )


def _exactly_one(carried):
    """Criterion: one header field per response; browsers read the first."""
    criterion = "Exactly one Strict-Transport-Security header per response"
    doubled = [e for e in carried if len(_values(e)) > 1]
    if not doubled:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        "; ".join(f"{e.label}: {_values(e)}" for e in doubled),
        mistake="hsts-duplicate",
        hint="Browsers process only the first header (RFC 6797 8.1). Set it "
        "in one place, with `response.headers[...] = ...`, not `.add()`.",
    )


def _valid_and_long(carried):
    """Criteria: each first value parses, and the shortest max-age is enough."""
    criterion = "The value follows the grammar of RFC 6797 6.1"
    parsed = []
    for value in dict.fromkeys(_values(e)[0] for e in carried):
        kind = _python_object(value)
        if kind:
            return [Finding(
                criterion, False, repr(value), mistake="hsts-not-a-string",
                hint=f"The value is {kind}, turned into text by Flask. Set "
                f"the header to a string, such as 'max-age={YEAR}'.",
            )]
        try:
            parsed.append((parse_sts(value), value))
        except StsSyntaxError as err:
            mistake = f"hsts-{err.mistake}"
            return [Finding(criterion, False, repr(value), str(err), mistake)]
    weakest = min(parsed, key=lambda pair: pair[0].max_age)
    return [Finding(criterion, True), _long_enough(*weakest)]


def _python_object(value):
    """Say what non-string Python object a header value was made from, if any."""
    if value == "None":
        return "None"
    if value[:2] in ("b'", 'b"'):
        return "bytes"
    if value.isdigit():
        return "a bare number"
    if value[:1] and value[:1] in "([{":
        return "a tuple, list or dict"
    return ""


def _long_enough(policy, value):
    """Criterion: max-age is not 0 and is at least six months (case F03)."""
    criterion = "max-age is at least six months (a year is recommended)"
    if policy.max_age == 0:
        return Finding(
            criterion,
            False,
            repr(value),
            mistake="hsts-max-age-zero",
            hint="max-age=0 tells browsers to forget the policy (RFC 6797 "
            f"6.1.1): it switches HSTS off. Use max-age={YEAR}.",
        )
    if policy.max_age < SIX_MONTHS:
        return Finding(
            criterion,
            False,
            repr(value),
            mistake="hsts-max-age-short",
            hint=f"max-age={policy.max_age} seconds lets the policy lapse "
            f"quickly, after which the next visit is exposed again. Use at "
            f"least {SIX_MONTHS} (six months); {YEAR} (a year) is usual.",
        )
    return Finding(criterion, True)


def _browser_notes_it(upgraded):
    """Criterion: a real browser notes the policy and upgrades http://."""
    criterion = "A browser that visited https:// now upgrades http:// itself"
    if upgraded:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        "http://bank.test/ would still be sent in clear",
        hint="Follows from the failures above: fix them and this passes.",
    )


def _warnings(seen):
    """Findings that do not fail the stage but are worth knowing."""
    found = []
    if any(_values(e) for e in seen.plain):
        found.append(
            Finding(
                "No Strict-Transport-Security over http://",
                False,
                "sent over http:// too",
                warning=True,
                hint="Harmless, but ignored there (RFC 6797 7.2, 8.1); an "
                "attacker can strip it anyway. Send it over HTTPS only.",
            )
        )
    if not any(e.location and e.location.startswith("https://") for e in seen.plain):
        found.append(
            Finding(
                "http:// redirects to https:// (notebook 04)",
                False,
                "no redirect",
                warning=True,
                hint="Without the redirect, a visitor who types bank.test stays "
                "on http:// and never receives the header (RFC 6797 7.2).",
            )
        )
    return found


def _notes(carried):
    """Advice that is not a criterion: a year, includeSubDomains, preload."""
    if not carried:
        return []
    try:
        policy = parse_sts(_values(carried[0])[0])
    except StsSyntaxError:
        return []
    notes = []
    if SIX_MONTHS <= policy.max_age < YEAR:
        notes.append(f"max-age={YEAR} (a year) is the usual choice.")
    if not policy.include_subdomains:
        notes.append("includeSubDomains also protects names such as static.bank.test.")
    notes.append(
        "A first visit is still exposed: only the browsers' preload list "
        "closes that gap."
    )
    return notes


def _label(exchange):
    """An exchange and its status, for a verdict."""
    status = exchange.response.status if exchange.response else "no answer"
    return f"{exchange.label} ({status})"
