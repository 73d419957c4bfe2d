"""Fixtures for the browser tests: one JupyterLab, one Chromium, a notebook run.

Each notebook is opened once, its cells run once, and every test about it
reads the same page; the next notebook's fixture closes the previous one, so
only one kernel (and one lab) runs at a time.
"""

import pytest

from .jupyterlab import (
    JupyterLab,
    chromium_missing_reason,
    code_cells,
    launch_chromium,
    open_notebook,
    run_all_cells,
)


@pytest.fixture(scope="session")
def jupyterlab():
    """A JupyterLab server on 127.0.0.1, stopped by its PID at the end."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    lab = JupyterLab().start()
    yield lab
    lab.stop()


@pytest.fixture(scope="session")
def chromium(jupyterlab):
    """Headless Debian Chromium, with the resolver catch-all of BROWSER.md."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


class Ran:
    """A notebook after 'Run All': its page, its outcome and its cells."""

    def __init__(self, page, notebook, outcome):
        self.page = page
        self.notebook = notebook
        self.outcome = outcome

    def cells(self):
        """The code cells with their outputs, as JupyterLab holds them now."""
        return code_cells(self.page, self.notebook)


def run_notebook(jupyterlab, chromium, notebook, attempts=2):
    """Open `notebook` in a new page, run all its cells; return a `Ran`.

    About one full run in four, a notebook's page never connected its kernel
    on this 2-core machine (no dialog, nothing in the server's log); a fresh
    page then works. Each failure is reported with what the page showed.
    """
    failures = []
    for attempt in range(attempts):
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        stem = notebook.rsplit("/", 1)[-1].split(".")[0]
        workspace = f"test-{stem}-{attempt}"
        try:
            open_notebook(page, jupyterlab, notebook, workspace, timeout=60)
            return Ran(page, notebook, run_all_cells(page, notebook))
        except Exception as err:
            failures.append(f"({err}; the page showed {_visible_text(page)!r})")
            page.close()
    raise AssertionError(
        f"{notebook} did not open and run in JupyterLab: {' '.join(failures)}. "
        f"The server's log ends with:\n{jupyterlab.log_tail()}"
    )


def _visible_text(page, limit=600):
    """The start of the page's text, to see a dialog that blocked the run."""
    try:
        return page.inner_text("body", timeout=5000)[:limit]
    except Exception as err:  # The page may be gone; say so instead.
        return f"(unreadable: {err})"


@pytest.fixture(scope="module")
def ran(request, jupyterlab, chromium):
    """The notebook named by the test's parameter, after running all cells."""
    result = run_notebook(jupyterlab, chromium, request.param)
    yield result
    result.page.close()
    jupyterlab.shut_down_kernels()
