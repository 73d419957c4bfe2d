"""One object for the whole lab: the bank's servers, the attacker, browsers.

A kernel has one lab (see `start_lab`). Starting it twice reuses it; stopping
it, or the kernel exiting, removes every process and file it made.
"""

import atexit
import shutil
import tempfile
import weakref

from flask import Flask, got_request_exception

from .attacker import Attacker
from .bank import create_bank
from .browser import Browser
from .errors import LearnerCodeError, NotRunningError
from .learner import explain
from .network import BANK, Network, Ports
from .pki import make_site_pki
from .servers import Dispatcher, SiteServers
from .transport import Transport

_NAMES = (BANK, f"*.{BANK}")


class Lab:
    """The virtual network, the bank's servers and the attacker of one lab."""

    def __init__(self):
        self.folder = None
        self.network = None
        self.ca_path = None
        self.site = None
        self.attacker = None
        self._transports = weakref.WeakSet()

    @property
    def running(self):
        """Whether the lab is started and its attacker is alive."""
        return self.site is not None and self.attacker.running

    def start(self, app=None):
        """Start the lab if needed and serve `app` (the weak bank by default)."""
        if not self.running:
            self.stop()
            self._start_parts()
        self.serve(app if app is not None else create_bank())
        return self

    def stop(self):
        """Stop the servers and the attacker and delete the lab's files."""
        for transport in list(self._transports):
            transport.close()
        self._transports.clear()
        # Files first: a kernel being shut down may be killed at any moment.
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.attacker is not None:
            self.attacker.stop()
        if self.site is not None:
            self.site.stop()
        self.folder = self.network = self.ca_path = None
        self.site = self.attacker = None

    def serve(self, app):
        """Make `app` the bank both servers answer with, from the next request.

        The new app is tried at once on its home page, over http:// and
        https://. If it raises, the previous app stays and the error says
        where in the learner's code it came from.
        """
        self._require_running()
        dispatcher = self.site.dispatcher
        previous = dispatcher.app
        app = _checked_app(app)
        if isinstance(app, Flask):
            got_request_exception.connect(dispatcher.note_failure, app, weak=False)

        dispatcher.failures.clear()
        dispatcher.app = app
        failure = self._try_home_page(dispatcher)
        if failure is not None:
            dispatcher.app = previous
            error, request = failure
            raise LearnerCodeError(
                explain(error, request) + "\nThe lab still serves your previous "
                "version; fix the code and run the cell again."
            ) from error

    def _try_home_page(self, dispatcher):
        """GET / over both schemes; return the first (error, request) or None."""
        transport = self.transport()
        try:
            for scheme in ("http", "https"):
                transport.send("GET", f"{scheme}://{BANK}/")
                if dispatcher.failures:
                    return dispatcher.failures[0]
        finally:
            transport.close()
        return None

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
        """Make the folder, the certificates, the servers and the attacker."""
        self.folder = tempfile.mkdtemp(prefix="labapp-")
        try:
            self.ca_path, ssl_context = make_site_pki(self.folder, _NAMES)
            self.site = SiteServers(Dispatcher(create_bank()), ssl_context)
            self.site.start()
            ports = Ports(self.site.http_port, self.site.https_port)
            self.network = Network({BANK: ports})
            self.attacker = Attacker(self.folder, self.network, self.ca_path)
            self.attacker.start()
        except BaseException:
            self.stop()
            raise

    def _require_running(self):
        if self.site is None:
            raise NotRunningError(
                "The lab is not running. Run the cell with "
                "`lab = labapp.start_lab()` first."
            )


def _checked_app(app):
    """Refuse what cannot serve requests, naming what was given instead."""
    if isinstance(app, Flask) or (callable(app) and not isinstance(app, type)):
        return app
    raise LearnerCodeError(
        f"lab.serve() needs a Flask app, such as the one `create_bank()` "
        f"returns, but got {app!r} ({type(app).__name__}). Check that your "
        "function ends with `return app`."
    )


_LAB = Lab()


def start_lab(app=None):
    """Start this kernel's lab (or reuse it) serving `app`, the weak bank by default."""
    atexit.unregister(_LAB.stop)
    atexit.register(_LAB.stop)
    return _LAB.start(app)


def current_lab():
    """This kernel's lab, which `start_lab` started."""
    _LAB._require_running()
    return _LAB
