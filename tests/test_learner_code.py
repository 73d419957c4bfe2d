"""Bad learner code gets a message that points at it; the lab keeps going."""

import json

import pytest
from flask import redirect, request

from labapp import LearnerCodeError, create_bank
from labapp.checks import inspect
from labapp.checks import examples as ex


def _raises_in_before_request():
    app = create_bank()

    @app.before_request
    def force_https():
        if not request.is_secure:
            return undefined_redirect(request.url)  # noqa: F821

    return app


def _raises_on_login_only():
    app = ex.add_redirect(create_bank())

    @app.after_request
    def hsts(response):
        if request.path == "/login":
            raise RuntimeError("learner bug")
        return response

    return app


def _wsgi_app_that_breaks(environ, start_response):
    raise ValueError("this app is broken")


def test_a_fix_that_raises_names_the_function_and_keeps_the_old_app(weak_lab):
    before = weak_lab.app

    with pytest.raises(LearnerCodeError) as caught:
        weak_lab.serve(_raises_in_before_request())

    message = str(caught.value)
    assert "NameError" in message and "force_https()" in message
    assert "GET http://bank.test/" in message
    assert "previous version" in message
    assert weak_lab.app is before


def test_the_next_attempt_works_after_a_failed_one(weak_lab):
    with pytest.raises(LearnerCodeError):
        weak_lab.serve(_raises_in_before_request())

    weak_lab.serve(ex.add_redirect(create_bank()))

    assert inspect("redirect", weak_lab).passed


def test_a_build_function_that_returns_none_is_told_to_return_the_app(weak_lab):
    def build_bank():
        create_bank()

    with pytest.raises(LearnerCodeError, match="return app"):
        weak_lab.serve(build_bank())


def test_a_broken_wsgi_app_is_refused_and_nothing_is_printed(weak_lab, capfd):
    with pytest.raises(LearnerCodeError, match="ValueError: this app is broken"):
        weak_lab.serve(_wsgi_app_that_breaks)

    # Case F18: server threads print nothing into the learner's cells.
    assert capfd.readouterr() == ("", "")


def test_an_error_on_one_page_shows_in_the_check(weak_lab):
    weak_lab.serve(_raises_on_login_only())

    verdict = inspect("hsts", weak_lab)

    assert verdict.mistakes[0] == "app-raised"
    assert "RuntimeError: learner bug in your function hsts()" in str(verdict)


def test_an_after_request_without_return_is_named(weak_lab):
    app = create_bank()

    @app.after_request
    def add_hsts(response):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"

    with pytest.raises(LearnerCodeError, match="must end with `return response`"):
        weak_lab.serve(app)


def test_an_error_inside_the_standard_library_blames_the_learners_line(weak_lab):
    app = create_bank()

    @app.before_request
    def parse_settings():
        json.loads("{'code': 301}")

    with pytest.raises(LearnerCodeError) as caught:
        weak_lab.serve(app)

    assert "in your function parse_settings()" in str(caught.value)


def test_an_app_that_answers_500_without_raising_is_refused(weak_lab):
    def no_body(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["text, not bytes"]

    before = weak_lab.app
    with pytest.raises(LearnerCodeError, match="return its body as bytes"):
        weak_lab.serve(no_body)
    assert weak_lab.app is before


def test_a_redirect_outside_the_lab_gets_a_verdict(weak_lab):
    app = create_bank()

    @app.before_request
    def canonical():
        return redirect("https://www.bank.test/", code=301)

    weak_lab.serve(app)

    verdict = inspect("hsts", weak_lab)

    assert not verdict.passed
