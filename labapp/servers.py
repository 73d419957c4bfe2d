"""The bank's two real servers, HTTP and HTTPS, on loopback ports the OS picks.

Both hand every request to one `Dispatcher`, whose current app can be swapped
while they run: the learner's next fix takes effect on the next request.
"""

import collections
import io
import threading
from dataclasses import dataclass

import flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .network import LOOPBACK


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

    def log(self, type, message, *args):
        pass


class _QuietServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, which would log an app's traceback to stderr.

    The `Dispatcher` records the error instead, for the learner's message.
    """

    def log(self, type, message, *args):
        pass


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
        """Stop both servers and close their sockets."""
        for server, thread in zip(self._servers, self._threads):
            if thread.is_alive():
                server.shutdown()
                thread.join(timeout=5)
            server.server_close()
