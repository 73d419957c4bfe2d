"""Write notebooks/exercises/ from the walkthroughs; --check only compares.

Usage: python scripts/make_exercises.py [--check]
"""

import sys
from pathlib import Path

import nbformat

from labapp.exercises import exercise_version

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def main(check):
    """Write (or compare) each exercise notebook; return the exit status."""
    stale = []
    for walkthrough in sorted(NOTEBOOKS.glob("0*.ipynb")):
        notebook = nbformat.read(walkthrough, as_version=4)
        if not any("solution" in c.metadata.get("tags", []) for c in notebook.cells):
            continue
        target = NOTEBOOKS / "exercises" / walkthrough.name
        text = nbformat.writes(exercise_version(notebook, walkthrough.name)) + "\n"
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text)
    if stale:
        print("Out of date, run scripts/make_exercises.py:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
