"""Stage 04: every http:// URL is redirected to the same place over https://."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..learner import hook_names
from ..network import BANK
from .probe import follow, pages, send
from .verdict import Finding, Verdict

STAGE = "Redirect to HTTPS"
FORGED_HOST = "evil.example"
# Every way a client can claim the request came over HTTPS (case F06):
# only a proxy the site runs may say so.
FORGED_SCHEME = {
    "X-Forwarded-Proto": "https",
    "Forwarded": "proto=https",
    "X-Forwarded-Ssl": "on",
}


@dataclass(frozen=True)
class Observed:
    """What the probes of the redirect check saw."""

    plain: list
    secure_home: object
    chain: list
    looped: bool
    forwarded: object
    foreign_host: object
    hooks: list


def observe(transport, app=None):
    """Probe the running site for the redirect check."""
    chain, looped = follow(transport, f"http://{BANK}/")
    return Observed(
        plain=pages(transport, "http"),
        secure_home=send(transport, "GET", f"https://{BANK}/"),
        chain=chain,
        looped=looped,
        forwarded=send(
            transport, "GET", f"http://{BANK}/account?x=1", FORGED_SCHEME
        ),
        foreign_host=send(transport, "GET", f"http://{BANK}/", {"Host": FORGED_HOST}),
        hooks=hook_names(app, "before_request"),
    )


def evaluate(seen):
    """Judge what was observed; return the `Verdict`."""
    upgraded = [e for e in seen.plain if _is_upgrade(e)]
    findings = [
        _every_url_redirects(seen.plain, upgraded, seen.hooks),
        _no_loop(seen),
        _https_works(seen.secure_home),
    ]
    if upgraded:
        findings.insert(1, _targets_are_right(upgraded))
        findings.append(_nothing_served_over_http(upgraded))
        baseline = next(e for e in seen.plain if e.url == seen.forwarded.url)
        if baseline in upgraded:
            findings.append(_forged_proto_ignored(seen.forwarded))
        findings.append(_host_header_ignored(seen.foreign_host))
    return Verdict(STAGE, findings, _post_note(seen.plain))


def _is_upgrade(exchange):
    """Whether a redirect means to move to https://: its scheme or same path.

    The bank's own redirects (/account to /login) are not upgrades; one that
    keeps the path but not the scheme is an upgrade that went wrong.
    """
    target = exchange.location
    if target is None:
        return False
    went = urlsplit(target)
    return went.scheme == "https" or went.path == urlsplit(exchange.url).path


def _every_url_redirects(plain, upgraded, hooks):
    """Criterion: every probed http:// request is sent to https://."""
    criterion = "Every http:// URL is redirected to https://"
    missing = [e for e in plain if e not in upgraded]
    if not missing:
        return Finding(criterion, True)
    detail = "; ".join(f"{e.label} -> {_status(e)}" for e in missing)
    if not upgraded and hooks:
        return Finding(
            criterion, False, detail, mistake="redirect-not-returned",
            hint=f"Your app has a before_request function ({', '.join(hooks)}) "
            "but nothing is redirected. Does it `return redirect(...)`? "
            "Calling redirect() without return changes nothing.",
        )
    if not upgraded:
        return Finding(
            criterion,
            False,
            detail,
            mistake="no-redirect",
            hint="Nothing is redirected yet. Add an `@app.before_request` "
            "function that, when `request.is_secure` is false, returns "
            "`redirect(<the https:// URL>, code=301)`.",
        )
    return Finding(
        criterion,
        False,
        detail,
        mistake="partial-redirect",
        hint="Only some URLs redirect. Redirect in `@app.before_request`, "
        "which runs for every URL (404s and POSTs included), not in a view.",
    )


def _targets_are_right(upgraded):
    """Criterion: each redirect goes to https://bank.test, path and query kept."""
    criterion = "Each redirect goes to https://bank.test, keeping path and query"
    for exchange in upgraded:
        mistake, hint = _target_mistake(exchange.url, exchange.location)
        if mistake:
            detail = f"{exchange.label} -> Location: {exchange.location}"
            return Finding(criterion, False, detail, hint, mistake)
    return Finding(criterion, True)


def _target_mistake(url, location):
    """Name what is wrong with a redirect target, or return (None, "")."""
    asked, went = urlsplit(url), urlsplit(location)
    if went.scheme != "https":
        return "redirect-to-http", (
            f"The redirect target {location} is not https://: the browser "
            "stays on plain HTTP. Build it with 'https://'."
        )
    if went.hostname != BANK or went.port not in (None, 443):
        return "redirect-changes-host", (
            f"The target should be on {BANK} with no port, as the browser "
            "knows it; build it from the bank's name, not from an address."
        )
    if went.path != asked.path:
        return "redirect-drops-path", (
            f"{asked.path} was sent to {went.path or '/'}: keep the path, "
            "for example with `request.full_path` or `request.url`."
        )
    if went.query != asked.query:
        return "redirect-drops-query", (
            "The query string was lost: keep it, for example with "
            "`request.full_path` or `request.url`."
        )
    return None, ""


def _nothing_served_over_http(upgraded):
    """Criterion: a redirect carries no cookie, so no view ran over http://."""
    criterion = "No cookie is set over http://"
    leaks = [e for e in upgraded if e.response.header_values("Set-Cookie")]
    if not leaks:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        "; ".join(e.label for e in leaks),
        mistake="cookie-over-http",
        hint="A view ran over http:// and set a cookie before the redirect. "
        "Redirect in `@app.before_request`, not `after_request`, so no view "
        "runs over http:// at all.",
    )


def _no_loop(seen):
    """Criterion: following redirects from http://bank.test/ ends, on a page."""
    criterion = "http://bank.test/ arrives at a page (no redirect loop)"
    if not seen.looped:
        return Finding(criterion, True)
    detail = " -> ".join(e.url for e in seen.chain)
    return Finding(
        criterion,
        False,
        detail,
        mistake="redirect-loop",
        hint="https:// requests are redirected too, so the browser never "
        "arrives. Decide with `request.is_secure`. A test of "
        "X-Forwarded-Proto only works behind a proxy that sets it, and "
        "there Werkzeug's ProxyFix is the way.",
    )


def _https_works(secure_home):
    """Criterion: the home page still loads over https://."""
    criterion = "https://bank.test/ still answers 200"
    response = secure_home.response
    if response is not None and response.status == 200:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        f"{secure_home.label} -> {_status(secure_home)}",
        mistake="https-broken",
        hint="The site no longer works over https://. Redirect only when "
        "`request.is_secure` is false, and check that your hook returns "
        "None for secure requests.",
    )


def _forged_proto_ignored(forwarded):
    """Criterion: a client-sent X-Forwarded-Proto does not skip the redirect."""
    criterion = "A forged X-Forwarded-Proto or Forwarded does not skip the redirect"
    if _is_upgrade(forwarded):
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        f"{forwarded.label} -> {_status(forwarded)}",
        mistake="trusts-x-forwarded-proto",
        hint="Anyone on the path can send X-Forwarded-Proto: https (or "
        "Forwarded: proto=https, X-Forwarded-Ssl: on) and keep the victim on "
        "http://. Trust such headers (ProxyFix with x_proto=1) only behind a "
        "proxy you run; here there is none.",
    )


def _host_header_ignored(foreign):
    """Criterion: the Host header cannot send the browser to another site."""
    criterion = "A forged Host header cannot redirect elsewhere"
    target = foreign.location
    if target is None or urlsplit(target).hostname != FORGED_HOST:
        return Finding(criterion, True)
    return Finding(
        criterion,
        False,
        f"Host: {FORGED_HOST} -> Location: {target}",
        mistake="open-redirect-host",
        hint="The redirect copies the Host header, so an attacker can send "
        "the victim anywhere. Build the target from 'bank.test', or set "
        "`app.config['TRUSTED_HOSTS'] = ['bank.test']`.",
    )


def _post_note(plain):
    """Case F08: a redirected POST has already sent its password in clear."""
    post = plain[-1]
    if not _is_upgrade(post):
        return []
    repeated = (
        "repeats the POST over TLS"
        if post.response.status in (307, 308)
        else "repeats it as a GET, without the password"
    )
    return [
        f"The password POSTed to {post.url} crossed the network in plain "
        f"text before your {post.response.status} answered (the browser then "
        f"{repeated}). Only HSTS, next, stops that."
    ]


def _status(exchange):
    """The status of an exchange, or why there is none."""
    if exchange.response is None:
        return f"no answer ({exchange.error})"
    return str(exchange.response.status)
