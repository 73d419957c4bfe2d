"""Take a screenshot of each notebook as a learner sees it after "Run All".

    .venv/bin/python scripts/screenshots.py [--out build/screenshots] [NOTEBOOK ...]

Starts its own JupyterLab on 127.0.0.1 and Debian's headless Chromium (with
the resolver catch-all of BROWSER.md), runs every cell of each notebook,
widgets included, and saves one full-length PNG per notebook. Needs
/usr/bin/chromium (`apt-get install chromium`) and the packages of
requirements-dev.txt.
"""

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.jupyterlab import (  # noqa: E402  (needs the path above)
    JupyterLab,
    chromium_missing_reason,
    launch_chromium,
    notebooks,
    open_notebook,
    run_all_cells,
)

WIDTH = 1200
MAX_HEIGHT = 16000  # Chromium draws no taller picture in one piece

# Only the notebook: one document, no side bars, no pop-up notices.
_SIMPLE = """
async () => {
  const app = window.jupyterapp;
  app.shell.mode = 'single-document';
  app.shell.collapseLeft();
  app.shell.collapseRight();
  for (const node of document.querySelectorAll('.Toastify')) node.remove();
}
"""
# The height that shows every cell: the top of the notebook's scroller plus
# the bottom of its last cell, measured from the top of its content.
_HEIGHT = """
() => {
  const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  const cells = scroller.querySelectorAll('.jp-Cell');
  const last = cells[cells.length - 1].getBoundingClientRect().bottom;
  const top = scroller.getBoundingClientRect().top;
  return Math.ceil(last - top + scroller.scrollTop + top + 24);
}
"""
# Back at the top, with the first cell selected, as a learner starts.
_TOP = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.activeCellIndex = 0;
  panel.content.mode = 'command';
  document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer').scrollTop = 0;
}
"""


def screenshot(page, lab, notebook, out):
    """Run `notebook` in `page` and save its whole length as one PNG."""
    page.set_viewport_size({"width": WIDTH, "height": 900})
    name = Path(notebook).stem
    open_notebook(page, lab, notebook, "shot-" + name)
    outcome = run_all_cells(page, notebook)
    page.evaluate(_SIMPLE)
    page.wait_for_timeout(500)  # let widgets and pictures settle

    # Grow the window until the whole notebook fits, then draw it.
    for _ in range(3):
        height = min(page.evaluate(_HEIGHT), MAX_HEIGHT)
        page.set_viewport_size({"width": WIDTH, "height": height})
        page.evaluate(_TOP)
        page.wait_for_timeout(500)
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    return path, outcome


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*",
                        help="paths under the repository; default: all of them")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "screenshots")
    args = parser.parse_args(argv)

    reason = chromium_missing_reason()
    if reason:
        parser.exit(2, f"Cannot take screenshots: {reason}\n")
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    failed = 0
    with JupyterLab() as lab, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for notebook in args.notebooks or notebooks():
                page = browser.new_page()
                path, outcome = screenshot(page, lab, notebook, args.out)
                page.close()
                lab.shut_down_kernels()
                failed += outcome != "done"
                said = "ran" if outcome == "done" else "a cell failed"
                print(f"{notebook}: {path} ({said})")
        finally:
            browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
