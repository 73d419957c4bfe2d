"""Exercise versions of the fix notebooks, made from the walkthroughs.

In a walkthrough, the cell that holds the fix is tagged ``solution`` and
carries, in its metadata under ``labapp``, the starting code (``stub``) and
``hints``. The exercise version replaces that cell with the hints, unfolding
one at a time, the stub to complete, and the solution folded away. One source,
two notebooks: scripts/make_exercises.py writes them, the tests compare.
"""

import copy

import nbformat

CHECK = "labapp.check("
CHECK_NOW = (
    "Check your fix now. Once it passes, run the rest of the notebook to see "
    "what it changes for Alice."
)
NOTE = (
    "> **Exercise version.** The fix is yours to write: look for *Your turn*. "
    "The worked version is `../{name}`."
)


def exercise_version(walkthrough, name):
    """Return the exercise notebook for `walkthrough` (a NotebookNode)."""
    exercise = copy.deepcopy(walkthrough)
    check = next(c for c in walkthrough.cells if CHECK in c.source)
    cells = []
    for cell in walkthrough.cells:
        if "solution" in cell.metadata.get("tags", []):
            cells.extend(_exercise_cells(cell, check))
        else:
            cells.append(copy.deepcopy(cell))
    cells.insert(1, _markdown(NOTE.format(name=name), f"{cells[0].id}-note"))
    exercise.cells = cells
    return exercise


def _exercise_cells(solution, check):
    """The hints, the stub to complete, the check, and the folded solution.

    The check comes right after the stub, so that Run All stops there with
    its hint, not later at a demonstration that needs the fix.
    """
    extra = solution.metadata["labapp"]
    stub = _code(extra["stub"], f"{solution.id}-stub", "exercise")
    return [
        _markdown(_hints(extra["hints"]), f"{solution.id}-hints"),
        stub,
        _markdown(CHECK_NOW, f"{solution.id}-check-note"),
        _code(check.source, f"{solution.id}-check"),
        _markdown(_folded_solution(solution.source), f"{solution.id}-answer"),
    ]


def _code(source, cell_id, tag=None):
    """A code cell with a stable id and, optionally, a tag."""
    cell = nbformat.v4.new_code_cell(source)
    cell.id = cell_id
    if tag:
        cell.metadata["tags"] = [tag]
    return cell


def _hints(hints):
    """Nested <details>: each hint opens only once the one before is open."""
    text = ["### Your turn", "", "Complete the cell below. Stuck? Open a hint."]
    for number, hint in enumerate(hints, start=1):
        text += ["", f"<details><summary>Hint {number}</summary>", "", hint]
    text += ["", *["</details>"] * len(hints)]
    return "\n".join(text)


def _folded_solution(source):
    """The walkthrough's fix, hidden until asked for."""
    return "\n".join([
        "<details><summary>Show a solution</summary>", "",
        "```python", source, "```", "", "</details>",
    ])


def _markdown(text, cell_id):
    """A markdown cell with a stable id."""
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = cell_id
    return cell
