"""Every stage check fails on the weak bank and each mistake, passes on fixes."""

import json

import pytest

from labapp import create_bank, progress
from labapp.checks import CheckFailed, check, inspect
from labapp.checks import examples as ex

CASES = {
    "redirect": (ex.REDIRECT_FIXES, ex.REDIRECT_MISTAKES),
    "hsts": (ex.HSTS_FIXES, ex.HSTS_MISTAKES),
    "cookies": (ex.COOKIE_FIXES, ex.COOKIE_MISTAKES),
}
FIXES = [
    pytest.param(stage, build, id=f"{stage}:{name}")
    for stage, (fixes, _) in CASES.items()
    for name, build in fixes.items()
]
MISTAKES = [
    pytest.param(stage, code, build, id=f"{stage}:{name}")
    for stage, (_, mistakes) in CASES.items()
    for name, (code, build) in mistakes.items()
]


@pytest.mark.parametrize("stage, build", FIXES)
def test_a_right_fix_passes(weak_lab, stage, build):
    weak_lab.serve(build())

    verdict = inspect(stage, weak_lab)

    assert verdict.passed, str(verdict)


@pytest.mark.parametrize("stage, code, build", MISTAKES)
def test_a_catalogued_mistake_fails_with_its_own_hint(weak_lab, stage, code, build):
    weak_lab.serve(build())

    verdict = inspect(stage, weak_lab)

    assert not verdict.passed
    assert code in verdict.mistakes, str(verdict)
    failed = [f for f in verdict.findings if f.mistake == code]
    assert failed[0].hint and failed[0].hint in str(verdict)


@pytest.mark.parametrize("stage", list(CASES))
def test_the_weak_bank_fails_every_stage(weak_lab, stage):
    weak_lab.serve(create_bank())

    assert not inspect(stage, weak_lab).passed


@pytest.mark.parametrize(
    "value, mistake",
    [
        (":max-age=31536000; includeSubDomains", "hsts-leading-colon"),
        ("max-age:31536000", "hsts-colon-for-equals"),
        ("max-age=31536000 includeSubDomains", "hsts-missing-semicolon"),
        ("max-age=31536000; include SubDomains", "hsts-split-directive"),
        ("max-age=-1", "hsts-bad-max-age"),
        ("includeSubDomains", "hsts-missing-max-age"),
    ],
    ids=["leading-colon", "colon", "no-semicolon", "split", "negative", "no-max-age"],
)
def test_every_syntax_error_of_case_f02_is_named(weak_lab, value, mistake):
    weak_lab.serve(ex._hsts_with(value))

    assert mistake in inspect("hsts", weak_lab).mistakes


def test_a_failed_check_fails_the_cell_with_the_verdict_alone(weak_lab):
    with pytest.raises(CheckFailed) as caught:
        check("redirect", weak_lab)

    rendered = caught.value._render_traceback_()
    assert rendered[0] == "Redirect to HTTPS check: NOT YET"
    assert any("before_request" in line for line in rendered)
    assert not any("Traceback" in line for line in rendered)


def test_checks_remember_what_passed(weak_lab, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABAPP_PROGRESS", str(tmp_path / "progress.json"))
    with pytest.raises(CheckFailed):
        check("redirect", weak_lab)
    weak_lab.serve(ex.REDIRECT_FIXES["before_request-301"]())

    check("redirect", weak_lab)

    saved = json.loads((tmp_path / "progress.json").read_text())
    assert saved["redirect"]["passed"] is True
    assert "04 Redirect to HTTPS: done" in progress.summary()
    assert "05 Strict-Transport-Security: not tried yet" in progress.summary()
    assert "PASSED" in capsys.readouterr().out


def test_an_unknown_stage_lists_the_stages(weak_lab):
    with pytest.raises(ValueError, match="redirect, hsts, cookies"):
        check("hst", weak_lab)


@pytest.mark.parametrize(
    "code, repeated",
    [(301, "repeats it as a GET"), (308, "repeats the POST over TLS")],
    ids=["301", "308"],
)
def test_case_f08_the_password_already_crossed_in_plain_text(weak_lab, code, repeated):
    weak_lab.serve(ex.add_redirect(create_bank(), code))

    notes = inspect("redirect", weak_lab).notes

    assert "crossed the network in plain text" in notes[0]
    assert repeated in notes[0]
