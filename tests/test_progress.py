"""Progress: a pass sticks, a damaged file is a fresh start, a reset forgets."""

import pytest

from labapp import progress
from labapp.checks import CheckFailed, check
from labapp.checks import examples as ex


@pytest.fixture
def own_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LABAPP_PROGRESS", str(path))
    return path


def test_a_pass_stays_a_pass_after_a_failed_attempt(own_file):
    progress.record("redirect", True)
    progress.record("redirect", False)

    assert progress.load()["redirect"]["passed"] is True
    assert "done (your latest attempt did not pass)" in progress.summary()


@pytest.mark.parametrize(
    "text", ["[]", "null", '{"redirect": true}', "{not json", "\xff"],
    ids=["list", "null", "flat", "broken", "binary"],
)
def test_a_damaged_file_is_a_fresh_start(own_file, text):
    own_file.write_text(text, errors="surrogateescape")

    progress.record("hsts", True)

    assert progress.load() == {"hsts": progress.load()["hsts"]}
    assert "05 Strict-Transport-Security: done" in progress.summary()


def test_reset_forgets_everything(own_file):
    progress.record("cookies", True)

    progress.reset()
    progress.reset()

    assert progress.load() == {}


def test_an_unwritable_file_still_gives_the_verdict(weak_lab, tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("LABAPP_PROGRESS", str(blocked / "progress.json"))

    with pytest.raises(CheckFailed) as caught:
        check("redirect", weak_lab)

    assert "Your progress could not be saved" in str(caught.value)
    weak_lab.serve(ex.REDIRECT_FIXES["before_request-301"]())
