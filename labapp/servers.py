"""The bank's two real servers, HTTP and HTTPS, on loopback ports the OS picks.

Both hand every request to one `Dispatcher`, whose current app can be swapped
while they run: the learner's next fix takes effect on the next request.
"""

import collections
import io
import socket
import threading
from dataclasses import dataclass

import flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .bank import create_bank
from .errors import BrowserError, LearnerCodeError
from .learner import explain
from .network import BANK, LOOPBACK
from .pki import make_site_pki

_NAMES = (BANK, f"*.{BANK}")
_HANDSHAKE_SECONDS = 10


@dataclass(frozen=True)
class Seen:
    """One request as a server received it."""

    scheme: str
    method: str
    host: str
    path: str


class Dispatcher:
    """A WSGI app that forwards to whichever app is current."""

    def __init__(self, app):
        self.app = app
        self.seen = collections.deque(maxlen=500)
        # Flask logs a view's exception to wsgi.errors; keeping it here stops
        # it from landing in whatever notebook cell happens to run (case F18).
        self.errors = _BoundedLog()
        self.failures = collections.deque(maxlen=20)

    def note_failure(self, sender, exception, **extra):
        """Remember an exception the app raised (Flask's got_request_exception)."""
        request = flask.request
        where = f"{request.method} {request.scheme}://{request.host}{request.path}"
        self.failures.append((exception, where))

    def __call__(self, environ, start_response):
        self.seen.append(
            Seen(
                environ["wsgi.url_scheme"],
                environ["REQUEST_METHOD"],
                environ.get("HTTP_HOST", ""),
                environ.get("PATH_INFO", ""),
            )
        )
        environ["wsgi.errors"] = self.errors
        try:
            return self.app(environ, start_response)
        except Exception as err:
            # A plain WSGI app's error: Flask apps report theirs by signal.
            where = "{} {}://{}{}".format(
                environ["REQUEST_METHOD"], environ["wsgi.url_scheme"],
                environ.get("HTTP_HOST", ""), environ.get("PATH_INFO", ""),
            )
            self.failures.append((err, where))
            raise


class _BoundedLog(io.TextIOBase):
    """A text stream that keeps only its last lines."""

    def __init__(self, lines=200):
        self.lines = collections.deque(maxlen=lines)

    def writable(self):
        return True

    def write(self, text):
        self.lines.extend(text.splitlines())
        return len(text)

    def text(self):
        """Return what was written, oldest line first."""
        return "\n".join(self.lines)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its per-request log lines (case F18)."""

    # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs hold each
    # response on a kept-alive connection back by tens of milliseconds.
    disable_nagle_algorithm = True

    def log(self, type, message, *args):
        pass


class _QuietServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, quiet, with TLS handshakes off its loop.

    Werkzeug would log an app's traceback to stderr; the `Dispatcher` records
    the error instead, for the learner's message. Werkzeug would also do each
    TLS handshake in accept(), on the one thread that serves every client:
    on a shared hub, anyone who connects and says nothing would stall the
    bank's HTTPS, and the lab's stop with it. Here each handshake runs in its
    connection's own thread, with a time limit.
    """

    def __init__(self, host, port, app, handler, ssl_context=None):
        super().__init__(host, port, app, handler=handler)
        # Set after: Werkzeug's own use of it wraps the listening socket.
        # Requests still see https:// as their scheme.
        self.ssl_context = ssl_context

    def get_request(self):
        connection, address = self.socket.accept()
        if self.ssl_context is not None:
            connection = self.ssl_context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            request.settimeout(_HANDSHAKE_SECONDS)
            try:
                request.do_handshake()
            except OSError:  # ssl.SSLError and timeouts too: the client's
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def log(self, type, message, *args):
        pass


def open_site(ca_path):
    """Make the bank's certificate (its CA at `ca_path`), start both servers."""
    site = SiteServers(Dispatcher(create_bank()), make_site_pki(ca_path, _NAMES))
    site.start()
    return site


class SiteServers:
    """The HTTP and HTTPS servers of one lab, each in a daemon thread."""

    def __init__(self, dispatcher, ssl_context):
        self.dispatcher = dispatcher
        self._servers = [
            _QuietServer(
                LOOPBACK, 0, dispatcher, handler=_QuietHandler, ssl_context=ctx
            )
            for ctx in (None, ssl_context)
        ]
        self._threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2},
                name=f"labapp-site-{server.port}", daemon=True,
            )
            for server in self._servers
        ]

    @property
    def http_port(self):
        """The real port of the plain-HTTP server."""
        return self._servers[0].port

    @property
    def https_port(self):
        """The real port of the HTTPS server."""
        return self._servers[1].port

    def start(self):
        """Start serving in the background."""
        for thread in self._threads:
            thread.start()

    def stop(self):
        """Stop both servers and close their sockets.

        No thread is started here: at interpreter exit, where the lab stops
        too, Python 3.12 refuses new threads.
        """
        for server in self._servers:
            _wake(server.socket)
        for server, thread in zip(self._servers, self._threads, strict=True):
            if thread.is_alive():
                server.shutdown()
            thread.join(timeout=5)
            server.server_close()

    def serve(self, app, transport):
        """Make `app` the bank, from the next request; the weak bank if None.

        The new app is tried at once on its home page, over http:// and
        https:// (through `transport`). If it raises, the previous app stays
        and the error says where in the learner's code it came from.
        """
        dispatcher = self.dispatcher
        previous = dispatcher.app
        app = create_bank() if app is None else app
        if isinstance(app, flask.Flask):
            # Weak: a stopped lab's dispatcher and apps must not live on in
            # Flask's signal for as long as the kernel does.
            flask.got_request_exception.connect(dispatcher.note_failure, app)

        dispatcher.failures.clear()
        dispatcher.app = app
        problem = _try_home_page(dispatcher, transport)
        if problem is not None:
            dispatcher.app = previous
            raise LearnerCodeError(
                problem + "\nThe lab still serves your previous version; fix "
                "the code and run the cell again."
            )


def _wake(listener):
    """Make a serving loop see its stop request now, not at its next poll.

    On Linux a listening socket that is shut down reads as ready (and its
    accept() fails) until the loop sees the request and ends; elsewhere
    this may do nothing, and the loop ends within its poll interval.
    """
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _try_home_page(dispatcher, transport):
    """GET / over both schemes; say what went wrong, or return None."""
    for scheme in ("http", "https"):
        url = f"{scheme}://{BANK}/"
        try:
            response = transport.send("GET", url)
        except BrowserError as err:
            return f"Your app did not answer GET {url}: {err}. {_WSGI_RULES}"
        if dispatcher.failures:
            return explain(*dispatcher.failures[0])
        if response.status == 500:
            # The server caught something outside the app's own call, such
            # as a body that is not bytes or a missing start_response().
            return (
                f"Your app answered GET {url} with 500 Internal Server Error. "
                f"{_WSGI_RULES}"
            )
    return None


_WSGI_RULES = (
    "An app (or middleware) must call start_response() and return its body "
    "as bytes, without hanging."
)
