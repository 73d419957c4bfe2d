"""One object for the whole lab: the bank's servers, the attacker, browsers.

A kernel has one lab (see `start_lab`). Starting it twice reuses it; stopping
it, or the kernel exiting, removes every process and file it made.
"""

import atexit
import importlib
import inspect
import os
import shutil
import tempfile
import threading
import weakref

from .attacker import Attacker
from .browser import Browser
from .errors import LearnerCodeError, NotRunningError
from .network import BANK, Network, Ports
from .transport import Transport


class Lab:
    """The virtual network, the bank's servers and the attacker of one lab."""

    def __init__(self):
        self.folder = None
        self.network = None
        self.ca_path = None
        self.site = None
        self.attacker = None
        self._transports = weakref.WeakSet()
        # Two threads starting (or one stopping) at once must not mix parts.
        self._lock = threading.RLock()

    @property
    def running(self):
        """Whether the lab is started and its attacker is alive."""
        return self.site is not None and self.attacker.running

    def start(self, app=None):
        """Start the lab if needed, and serve `app` if one is given.

        A fresh lab serves the weak bank. Started again, the lab keeps the
        app it serves, so running the set-up cell twice loses no fix (F17).
        """
        with self._lock:
            if not self.running:
                self.stop()
                self._start_parts()
                self._serve(None)
            if app is not None:
                self.serve(app)
        return self

    def stop(self):
        """Stop the servers and the attacker and delete the lab's files."""
        with self._lock:
            self._stop()

    def _stop(self):
        """`stop`, under the lock."""
        for transport in list(self._transports):
            transport.close()
        self._transports.clear()
        # Files first: a kernel being shut down may be killed at any moment.
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        # The proxy exits while the servers stop; then wait for it.
        if self.attacker is not None:
            self.attacker.terminate()
        if self.site is not None:
            self.site.stop()
        if self.attacker is not None:
            self.attacker.stop()
        self.folder = self.network = self.ca_path = None
        self.site = self.attacker = None

    def serve(self, app):
        """Make `app` the bank both servers answer with, from the next request.

        The new app is tried at once; if it raises, the previous app stays and
        the `LearnerCodeError` says where in the learner's code it failed.
        """
        self._serve(_checked_app(app))

    def _serve(self, app):
        """Serve `app`, or the weak bank if None."""
        self._require_running()
        transport = self.transport()
        try:
            self.site.serve(app, transport)
        finally:
            transport.close()

    @property
    def app(self):
        """The app the bank serves now."""
        self._require_running()
        return self.site.dispatcher.app

    def victim(self, via_attacker=True):
        """A new victim browser, first-time visitor, through the attacker or not."""
        self._require_running()
        proxy = self.attacker.proxy if via_attacker else None
        return Browser(self.transport(proxy))

    def replay(self, cookies, url):
        """Send stolen `cookies` to `url` from the attacker's own machine."""
        header = "; ".join(f"{name}={value}" for name, value in cookies.items())
        return Browser(self.transport()).request("GET", url, headers={"Cookie": header})

    def transport(self, proxy=None):
        """A new `Transport` to the lab, closed when the lab stops."""
        self._require_running()
        transport = Transport(self.network, self.ca_path, proxy)
        self._transports.add(transport)
        return transport

    def _start_parts(self):
        """Make the folder, start the attacker, then build the bank meanwhile."""
        self.folder = tempfile.mkdtemp(prefix="labapp-")
        self.ca_path = os.path.join(self.folder, "lab-ca.pem")
        try:
            self.attacker = Attacker(self.folder, self.ca_path)
            self.attacker.spawn()
            # Flask, Werkzeug and trustme load here, while mitmdump boots in
            # its own process: about a fifth of the lab's start is saved
            # (scripts/benchmark.py measures it).
            servers = importlib.import_module(".servers", __package__)
            self.site = servers.open_site(self.ca_path)
            ports = Ports(self.site.http_port, self.site.https_port)
            self.network = Network({BANK: ports})
            self.attacker.connect(self.network)
            _load_notebook_modules()
            self.attacker.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _require_running(self):
        if self.site is None:
            raise NotRunningError(
                "The lab is not running. Run the cell with "
                "`lab = labapp.start_lab()` first."
            )


def _load_notebook_modules():
    """Import what the notebooks use after the set-up cell.

    It costs nothing here, where the lab waits for mitmdump to finish its
    own start on another core; later, it would hold up a learner's cell.
    """
    for name in ("checks", "report", "scenarios", "views"):
        importlib.import_module(f".{name}", __package__)


def _checked_app(app):
    """Refuse what cannot serve requests, naming what was given instead."""
    if callable(app) and not isinstance(app, type) and _takes_arguments(app):
        return app
    if callable(app) and not isinstance(app, type):
        raise LearnerCodeError(
            f"lab.serve() got the function {app.__name__} itself. Call it, "
            f"to hand over the app it builds: lab.serve({app.__name__}())."
        )
    raise LearnerCodeError(
        f"lab.serve() needs a Flask app, such as the one `create_bank()` "
        f"returns, but got {app!r} ({type(app).__name__}). Check that your "
        "function ends with `return app`."
    )


def _takes_arguments(app):
    """Whether `app` can be called as WSGI, with environ and start_response."""
    try:
        inspect.signature(app).bind(None, None)
    except TypeError:
        return False
    except ValueError:
        return True  # No signature to read, as for some built-ins.
    return True


_LAB = Lab()


def start_lab(app=None):
    """Start this kernel's lab, or reuse it; serve `app` if one is given."""
    atexit.unregister(_LAB.stop)
    atexit.register(_LAB.stop)
    return _LAB.start(app)


def current_lab():
    """This kernel's lab, which `start_lab` started."""
    _LAB._require_running()
    return _LAB
