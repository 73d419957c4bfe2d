"""JupyterLab in headless Chromium: start both, open a notebook, run it.

Shared by the browser tests and `scripts/screenshots.py`. It follows
/work/shared/BROWSER.md: Debian's Chromium driven by Playwright, every start
with the resolver catch-all that sends every name but 127.0.0.1 nowhere, and
JupyterLab on 127.0.0.1 with a port the OS picks and a random token.
"""

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..processes import stop

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]

# BROWSER.md: the catch-all is not optional; the rest keeps Chromium quiet.
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
]

# JupyterLab's own calls outside the machine: news, update checks, PyPI.
_QUIET_LAB = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]
# User settings for the run: no news pop-up, and no autosave, which would
# write the outputs of a run into the repository's notebooks.
_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false", "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
_READY_SECONDS = 60


def chromium_missing_reason():
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing; install Debian's chromium "
                "(`apt-get install chromium`, as .ci/run does) to run these.")
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed; `pip install -r requirements-dev.txt`."
    return None


def launch_chromium(playwright):
    """Headless Debian Chromium with the flags BROWSER.md requires."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


class JupyterLab:
    """A JupyterLab server of our own, in a temp dir, stopped by its PID."""

    def __init__(self, root=REPO):
        self.root = Path(root)
        self.folder = None
        self.process = None
        self.port = None
        self.token = secrets.token_urlsafe(24)

    def start(self):
        """Start the server and wait, with a time limit, for its port."""
        self.folder = Path(tempfile.mkdtemp(prefix="labapp-jupyterlab-"))
        settings = self.folder / "settings"
        for plugin, values in _SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(
            os.environ,
            JUPYTER_RUNTIME_DIR=str(self.folder / "runtime"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.folder / "workspaces"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
        )
        command = [
            str(Path(sys.executable).with_name("jupyter")), "lab",
            "--no-browser", "--ip=127.0.0.1", "--port=0",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True",
            f"--ServerApp.root_dir={self.root}",
            *_QUIET_LAB,
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self._log = open(self.folder / "jupyterlab.log", "wb")
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        self.port = self._wait_for_port()
        return self

    def _wait_for_port(self):
        info = self.folder / "runtime" / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + _READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.process.returncode} while "
                    f"starting; its log:\n{self.log_tail()}"
                )
            if info.exists():
                try:
                    return json.loads(info.read_text())["port"]
                except (ValueError, KeyError):
                    pass  # written but not complete yet
            time.sleep(0.1)
        raise RuntimeError(
            f"JupyterLab was not ready after {_READY_SECONDS} s; its log:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines=30):
        """The end of the server's log, for an error message."""
        text = (self.folder / "jupyterlab.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def url(self, notebook, workspace):
        """The address that opens `notebook` in a workspace of its own."""
        return (f"http://127.0.0.1:{self.port}/lab/workspaces/{workspace}/tree/"
                f"{notebook}?token={self.token}")

    def shut_down_kernels(self):
        """Ask the server to stop every session's kernel (and so its lab)."""
        for session in self._api("GET", "sessions") or []:
            self._api("DELETE", f"sessions/{session['id']}")

    def _api(self, method, path):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self):
        """Stop the kernels, then the server by its PID; delete the temp dir."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.shut_down_kernels()
            except OSError:
                pass  # the server is going away regardless
            stop(self.process, seconds=20)
        if self.process is not None:
            self._log.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.process = self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# JavaScript run in the page. `window.jupyterapp` is there because of
# --LabApp.expose_app_in_browser.
_FIND = """
(path) => {
  // Until the page has loaded JupyterLab, there is nothing to find yet.
  const app = window.jupyterapp;
  if (!app || !app.shell) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path) return w;
  }
  return null;
}
"""
_KERNEL_IDLE = f"""
(path) => {{
  const panel = ({_FIND})(path);
  const s = panel && panel.sessionContext;
  const kernel = s && s.session && s.session.kernel;
  return !!(s && s.isReady && kernel && kernel.connectionStatus === 'connected'
            && kernel.status === 'idle');
}}
"""
# Not awaited: the command's promise may never settle, and page.evaluate has
# no time limit; run_all_cells waits, with one, for the cells instead.
_RUN_ALL = f"""
(path) => {{
  const panel = ({_FIND})(path);
  window.jupyterapp.shell.activateById(panel.id);
  window.jupyterapp.commands.execute('notebook:run-all-cells');
}}
"""
# Done when every code cell has run and the kernel is idle, or at the first
# error (run-all stops there, so the rest would never get a number).
_RUN_STATE = f"""
(path) => {{
  const panel = ({_FIND})(path);
  const cells = panel.content.model.cells;
  let pending = false;
  for (let i = 0; i < cells.length; i++) {{
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (const out of cell.outputs.toJSON()) {{
      if (out.output_type === 'error') return 'error';
    }}
    if (!cell.executionCount) pending = true;
  }}
  const kernel = panel.sessionContext.session.kernel;
  return !pending && kernel.status === 'idle' ? 'done' : null;
}}
"""
_OUTPUTS = f"""
(path) => {{
  const panel = ({_FIND})(path);
  const cells = panel.content.model.cells;
  const found = [];
  for (let i = 0; i < cells.length; i++) {{
    const cell = cells.get(i);
    if (cell.type === 'code') found.push({{index: i,
      source: cell.sharedModel.getSource(), outputs: cell.outputs.toJSON()}});
  }}
  return found;
}}
"""


def open_notebook(page, lab, notebook, workspace, timeout=90):
    """Open `notebook` (a path under the server root) and wait for its kernel."""
    page.goto(lab.url(notebook, workspace))
    page.wait_for_function(_KERNEL_IDLE, arg=notebook, timeout=timeout * 1000)


def run_all_cells(page, notebook, timeout=180):
    """Run every cell; return 'done', or 'error' if a cell raised."""
    page.evaluate(_RUN_ALL, notebook)
    handle = page.wait_for_function(_RUN_STATE, arg=notebook, timeout=timeout * 1000)
    return handle.json_value()


def code_cells(page, notebook):
    """Every code cell: its index, source and outputs as nbformat JSON."""
    return page.evaluate(_OUTPUTS, notebook)


def notebooks():
    """The course's notebooks, in order, as paths under the repository."""
    return sorted(
        str(path.relative_to(REPO)) for path in (REPO / "notebooks").glob("*.ipynb")
    )
