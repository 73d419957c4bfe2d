"""Learners run notebooks again: Run All twice, and Restart and Run All.

nbval (in the same pytest run) runs each notebook once in a fresh kernel. Here
each runs twice in one kernel, as "Run All" pressed twice does, and three
times with a restart of its kernel in between, as "Restart Kernel and Run All
Cells" does. A cell that raises fails the test.
"""

from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from .processes import mitmdumps

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _client(path):
    """A notebook client for `path`, running in the notebook's folder."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )  # fmt: skip
    client.reset_execution_trackers()
    return notebook, client


def _run_all(notebook, client):
    """Run every cell in order in the client's kernel; raise on an error."""
    for index, cell in enumerate(notebook.cells):
        client.execute_cell(cell, index)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_run_all_twice_in_one_kernel(path):
    notebook, client = _client(path)

    with client.setup_kernel():
        _run_all(notebook, client)
        _run_all(notebook, client)

        # The second start_lab() reused the lab: still one attacker.
        assert len(mitmdumps(client.km.provisioner.pid)) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_restart_and_run_all_three_times(path):
    notebook, client = _client(path)

    with client.setup_kernel():
        for attempt in range(3):
            if attempt:
                run_sync(client.km.restart_kernel)(now=False)
                run_sync(client.kc.wait_for_ready)(timeout=60)
            _run_all(notebook, client)
            assert len(mitmdumps(client.km.provisioner.pid)) == 1
