"""The exercise notebooks: up to date, and failing with the right hint."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "notebooks" / "exercises"
EXPECTED_HINT = {
    "04-redirect.ipynb": "Nothing is redirected yet",
    "05-hsts.ipynb": "Add an `@app.after_request` function",
    "06-secure-cookies.ipynb": "Set app.config['SESSION_COOKIE_SECURE'] = True",
}


def test_the_exercises_are_made_from_the_walkthroughs():
    result = subprocess.run(
        [sys.executable, "scripts/make_exercises.py", "--check"],
        cwd=ROOT, capture_output=True, text=True,
    )

    assert result.returncode == 0, result.stdout
    assert sorted(p.name for p in EXERCISES.glob("*.ipynb")) == sorted(EXPECTED_HINT)


@pytest.mark.parametrize("name", sorted(EXPECTED_HINT))
def test_an_exercise_left_undone_fails_its_check_with_the_hint(name):
    notebook = nbformat.read(EXERCISES / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=120, allow_errors=True,
        resources={"metadata": {"path": str(EXERCISES)}},
    )

    client.execute()

    cells = notebook.cells
    failed = [c for c in cells if _errors(c)]
    stub = next(c for c in cells if "exercise" in c.metadata.get("tags", []))
    check = next(c for c in cells if "labapp.check(" in c.source)
    assert cells.index(stub) < cells.index(check), "the check follows the stub"
    assert failed[0] is check, "Run All stops first at the check, not before"
    rendered = "\n".join(line for e in _errors(check) for line in e.traceback)
    assert "check: NOT YET" in rendered
    assert EXPECTED_HINT[name] in rendered


def _errors(cell):
    """The error outputs of a code cell."""
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]
