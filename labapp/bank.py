"""The Weak Bank: a small Flask site, deliberately weak in three ways.

1. It answers over http:// as well as https://, with no redirect (lesson 04).
2. It sends no Strict-Transport-Security header (lesson 05).
3. Its session cookie lacks the Secure attribute (lessons 03 and 06).

Learners fix it by building a new app from `create_bank` and adding their
change; Flask refuses new routes and hooks once an app has served a request.
"""

import hmac
import secrets

from flask import Flask, redirect, render_template_string, request, session

from .network import BANK

USER = "alice"
PASSWORD = "correct-horse-battery"
BALANCE = "12,345.67"

# One key per kernel, so a session survives the learner swapping in a new app.
_SECRET_KEY = secrets.token_hex(32)

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Weak Bank - {{ title }}</title></head>
<body><h1>{{ title }}</h1>{{ body | safe }}</body></html>
"""


def create_bank(config=None):
    """Build the weak bank; `config` updates Flask's settings, as in flaskr."""
    app = Flask("weak_bank")
    app.config.update(SECRET_KEY=_SECRET_KEY, BANK_HOST=BANK)
    if config:
        app.config.update(config)

    app.add_url_rule("/", view_func=home)
    app.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    app.add_url_rule("/account", view_func=account)
    app.add_url_rule("/offers", view_func=offers)
    app.add_url_rule("/logout", view_func=logout)
    return app


def page(title, body, status=200):
    """Render one page of the bank."""
    return render_template_string(_PAGE, title=title, body=body), status


def home():
    """The home page, weak: served over http:// with an https:// login link.

    An attacker on the path rewrites that link to http:// (lesson 02).
    """
    login_url = f"https://{BANK}/login"
    return page(
        "Welcome to the Weak Bank",
        f'<p><a href="{login_url}">Log in</a> to see your account.</p>',
    )


def login():
    """The login form and its handler, weak: it also answers over http://.

    A password posted here over http:// crosses the network in plain text.
    """
    if request.method == "GET":
        return page("Log in", _login_form())

    name = request.form.get("username", "")
    password = request.form.get("password", "")
    if name != USER or not hmac.compare_digest(password, PASSWORD):
        return page("Log in", "<p>Wrong name or password.</p>" + _login_form(), 401)

    session.clear()
    session["user"] = name
    return redirect("/account", code=303)


def account():
    """The account page, behind the session cookie.

    Weak: the cookie it trusts was set without Secure, so any http:// request
    to the bank carries it past an attacker (lesson 03).
    """
    user = session.get("user")
    if user is None:
        return redirect("/login", code=302)
    return page(
        "Your account",
        f"<p>Hello {user}. Balance: <b>{BALANCE}</b> EUR.</p>"
        f'<p><a href="http://{BANK}/offers">See our offers</a> | '
        '<a href="/logout">Log out</a></p>',
    )


def offers():
    """A page linked with a hard-coded http:// URL, weak on purpose (lesson 03)."""
    return page("Offers", "<p>No offers today.</p>")


def logout():
    """End the session."""
    session.clear()
    return redirect("/", code=302)


def _login_form():
    """The login form; its action is relative, so it keeps the page's scheme."""
    return (
        '<form method="post" action="/login">'
        '<label>Name <input name="username"></label> '
        '<label>Password <input name="password" type="password"></label> '
        '<button type="submit">Log in</button></form>'
    )
