"""Right fixes and catalogued mistakes, as apps the tests and lessons share.

Each right fix comes in several valid shapes; each mistake is one that people
make (see the cases F01-F12), paired with the code the check must name.
"""

from flask import redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ..bank import create_bank
from ..network import BANK
from ..solutions import (
    STS,
    YEAR,
    add_hsts,
    add_redirect,
    https_url,
    secure_cookies,
)


def _redirect_middleware():
    """Right, as WSGI middleware: redirect before Flask sees the request."""
    app = create_bank()
    inner = app.wsgi_app

    def middleware(environ, start_response):
        if environ["wsgi.url_scheme"] == "https":
            return inner(environ, start_response)
        query = environ.get("QUERY_STRING")
        target = f"https://{BANK}{environ.get('PATH_INFO', '/')}"
        target += f"?{query}" if query else ""
        start_response("308 Permanent Redirect", [("Location", target)])
        return [b""]

    app.wsgi_app = middleware
    return app


def _redirect_request_url():
    """Right: `request.url` made https, with TRUSTED_HOSTS against Host tricks."""
    app = create_bank({"TRUSTED_HOSTS": [BANK]})

    @app.before_request
    def force_https():
        if not request.is_secure:
            return redirect(request.url.replace("http://", "https://", 1), 301)

    return app


def _redirect_with(target, app=None):
    """A before_request redirect to `target(request)`: the mistakes' shape."""
    app = app or create_bank()

    @app.before_request
    def force_https():
        if not request.is_secure:
            return redirect(target(), code=301)

    return app


def _redirect_home_only():
    """Mistake: the redirect lives in one view."""
    app = create_bank()
    app.view_functions["home"] = _guarded(app.view_functions["home"])
    return app


def _guarded(view):
    """Wrap a view so it redirects when the request is not secure."""

    def guarded():
        if not request.is_secure:
            return redirect(https_url(), code=301)
        return view()

    return guarded


def _redirect_on_forwarded_proto():
    """Mistake F05: redirect unless X-Forwarded-Proto says https (no proxy)."""
    app = create_bank()

    @app.before_request
    def force_https():
        if request.headers.get("X-Forwarded-Proto", "http") != "https":
            return redirect(https_url(), code=301)

    return app


def _redirect_behind_proxyfix():
    """Mistake F06: ProxyFix trusts a client's X-Forwarded-Proto."""
    app = add_redirect(create_bank())
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
    return app


def _redirect_after_request():
    """Mistake: views run over http://, then their answer becomes a redirect."""
    app = create_bank()

    @app.after_request
    def force_https(response):
        if not request.is_secure:
            moved = redirect(https_url(), code=301)
            for value in response.headers.getlist("Set-Cookie"):
                moved.headers.add("Set-Cookie", value)
            return moved
        return response

    return app


def _redirect_not_returned():
    """Mistake: the hook calls redirect() but does not return it."""
    app = create_bank()

    @app.before_request
    def force_https():
        if not request.is_secure:
            redirect(https_url(), code=301)

    return app


def _redirect_unless_forwarded_ssl():
    """Mistake F06, another header: X-Forwarded-Ssl trusted from a client."""
    app = create_bank()

    @app.before_request
    def force_https():
        claimed = request.headers.get("X-Forwarded-Ssl") == "on"
        if not (request.is_secure or claimed):
            return redirect(https_url(), code=301)

    return app


def _redirect_except_offers():
    """Mistake: one path, the bank's own http:// link, is left on http://."""
    app = create_bank()

    @app.before_request
    def force_https():
        if not request.is_secure and request.path != "/offers":
            return redirect(https_url(), code=301)

    return app


REDIRECT_FIXES = {
    "before_request-301": lambda: add_redirect(create_bank(), 301),
    "before_request-308": lambda: add_redirect(create_bank(), 308),
    "request.url+TRUSTED_HOSTS": _redirect_request_url,
    "wsgi-middleware-308": _redirect_middleware,
}

REDIRECT_MISTAKES = {
    "weak-bank": ("no-redirect", create_bank),
    "home-view-only": ("partial-redirect", _redirect_home_only),
    "drops-path": (
        "redirect-drops-path",
        lambda: _redirect_with(lambda: f"https://{BANK}/"),
    ),
    "drops-query": (
        "redirect-drops-query",
        lambda: _redirect_with(lambda: f"https://{BANK}{request.path}"),
    ),
    "changes-host": (
        "redirect-changes-host",
        lambda: _redirect_with(lambda: f"https://localhost{request.path}"),
    ),
    "glues-port": (
        "redirect-changes-host",
        lambda: _redirect_with(lambda: f"https://{BANK}:80{request.path}"),
    ),
    "target-is-http": ("redirect-to-http", lambda: _redirect_with(lambda: request.url)),
    "forwarded-proto-loop": ("redirect-loop", _redirect_on_forwarded_proto),
    "trusts-forwarded-proto": ("trusts-x-forwarded-proto", _redirect_behind_proxyfix),
    "copies-host-header": (
        "open-redirect-host",
        lambda: _redirect_with(lambda: request.url.replace("http://", "https://", 1)),
    ),
    "after_request": ("cookie-over-http", _redirect_after_request),
    "no-return": ("redirect-not-returned", _redirect_not_returned),
    "trusts-forwarded-ssl": (
        "trusts-x-forwarded-proto", _redirect_unless_forwarded_ssl
    ),
    "skips-offers": ("partial-redirect", _redirect_except_offers),
}


def _hsts_with(value):
    """The redirect and HSTS with `value`: the mistakes' shape."""
    return add_hsts(add_redirect(create_bank()), value)


def _hsts_both_schemes():
    """Right, if needlessly: HSTS on http:// responses too (ignored there)."""
    app = add_redirect(create_bank())

    @app.after_request
    def strict_transport_security(response):
        response.headers["Strict-Transport-Security"] = STS
        return response

    return app


def _hsts_middleware():
    """Right, as WSGI middleware: add the header to every HTTPS response."""
    app = add_redirect(create_bank())
    inner = app.wsgi_app

    def middleware(environ, start_response):
        def start(status, headers, exc_info=None):
            if environ["wsgi.url_scheme"] == "https":
                headers.append(("Strict-Transport-Security", STS))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = middleware
    return app


def _hsts_http_only():
    """Mistake F01a: the header only on the http:// redirect."""
    app = create_bank()

    @app.before_request
    def force_https():
        if not request.is_secure:
            moved = redirect(https_url(), code=301)
            moved.headers["Strict-Transport-Security"] = STS
            return moved

    return app


def _hsts_login_only():
    """Mistake F01b: the header set in the login view only."""
    app = add_redirect(create_bank())
    login = app.view_functions["login"]

    def login_with_hsts():
        response = app.make_response(login())
        response.headers["Strict-Transport-Security"] = STS
        return response

    app.view_functions["login"] = login_with_hsts
    return app


def _hsts_twice():
    """Mistake: two hooks each add the header, so it is sent twice."""
    app = add_redirect(create_bank())

    @app.after_request
    def first(response):
        response.headers.add("Strict-Transport-Security", STS)
        return response

    @app.after_request
    def second(response):
        response.headers.add("Strict-Transport-Security", "max-age=0")
        return response

    return app


def _hsts_on_another_response():
    """Mistake: the hook sets the header on a response it does not return."""
    app = add_redirect(create_bank())

    @app.after_request
    def add_hsts(response):
        other = app.make_response("")
        other.headers["Strict-Transport-Security"] = STS
        return response

    return app


HSTS_FIXES = {
    "after_request": lambda: add_hsts(add_redirect(create_bank())),
    "after_request-both-schemes": _hsts_both_schemes,
    "six-months": lambda: _hsts_with("max-age=15552000"),
    "quoted-preload": lambda: _hsts_with(
        f'max-age="{YEAR}"; includeSubDomains; preload'
    ),
    "wsgi-middleware": _hsts_middleware,
}

HSTS_MISTAKES = {
    "weak-bank": ("no-hsts", create_bank),
    "redirect-only": ("no-hsts", lambda: add_redirect(create_bank())),
    "http-only": ("hsts-http-only", _hsts_http_only),
    "login-view-only": ("hsts-some-pages", _hsts_login_only),
    "colon-for-equals": (
        "hsts-colon-for-equals",
        lambda: _hsts_with(f"max-age:{YEAR}"),
    ),
    "missing-semicolon": (
        "hsts-missing-semicolon",
        lambda: _hsts_with(f"max-age={YEAR} includeSubDomains"),
    ),
    "split-directive": (
        "hsts-split-directive",
        lambda: _hsts_with(f"max-age={YEAR}; include SubDomains"),
    ),
    "max-age-zero": ("hsts-max-age-zero", lambda: _hsts_with("max-age=0")),
    "max-age-an-hour": ("hsts-max-age-short", lambda: _hsts_with("max-age=3600")),
    "sent-twice": ("hsts-duplicate", _hsts_twice),
    "value-is-none": ("hsts-not-a-string", lambda: _hsts_with(None)),
    "another-response": ("hsts-not-returned", _hsts_on_another_response),
    "value-is-a-number": ("hsts-not-a-string", lambda: _hsts_with(YEAR)),
}


def _secure_without_redirect():
    """Mistake F10: Secure before the site sends everyone to HTTPS."""
    return create_bank({"SESSION_COOKIE_SECURE": True})


def _secure_only_over_https():
    """Mistake: Secure on https:// only, so an http:// login leaks it."""
    app = create_bank({"SESSION_COOKIE_HTTPONLY": True})

    class SecureWhenHttps(app.session_interface.__class__):
        def get_cookie_secure(self, app):
            return request.is_secure

    app.session_interface = SecureWhenHttps()
    return app


COOKIE_FIXES = {
    "secure-httponly-lax": secure_cookies,
    "strict": lambda: secure_cookies({"SESSION_COOKIE_SAMESITE": "Strict"}),
    "host-prefix": lambda: secure_cookies({"SESSION_COOKIE_NAME": "__Host-session"}),
    "wrapped-in-proxyfix": lambda: ProxyFix(
        secure_cookies({"SESSION_COOKIE_NAME": "__Host-session"})
    ),
    "secure-only": lambda: add_hsts(
        add_redirect(create_bank({"SESSION_COOKIE_SECURE": True}))
    ),
}

COOKIE_MISTAKES = {
    "weak-bank": ("cookie-not-secure", create_bank),
    "redirect-and-hsts-only": (
        "cookie-not-secure",
        lambda: add_hsts(add_redirect(create_bank())),
    ),
    "setting-typo": (
        "config-typo",
        lambda: add_redirect(create_bank({"SESSION_COOKIES_SECURE": True})),
    ),
    "secure-before-redirect": ("secure-before-https", _secure_without_redirect),
    "samesite-none-without-secure": (
        "samesite-none-without-secure",
        lambda: add_redirect(create_bank({"SESSION_COOKIE_SAMESITE": "None"})),
    ),
    "secure-only-over-https": ("session-over-http", _secure_only_over_https),
    "host-prefix-wrong-path": (
        "cookie-prefix",
        lambda: secure_cookies(
            {"SESSION_COOKIE_NAME": "__Host-session", "SESSION_COOKIE_PATH": "/account"}
        ),
    ),
}
