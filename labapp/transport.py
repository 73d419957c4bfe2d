"""One HTTP exchange with a lab URL, straight to the bank or through a proxy.

The victim browser, the stage checks and the attacker's replay all send
requests this way. Nothing here follows redirects or keeps state: callers
decide what a browser would do next.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

from .errors import BrowserError, OutsideLabError
from .network import DEFAULT_PORTS, LOOPBACK

_TIMEOUT = urllib3.Timeout(connect=5, read=10)


@dataclass(frozen=True)
class Response:
    """A response as received: every header field kept, the body decoded."""

    url: str
    status: int
    headers: urllib3.HTTPHeaderDict
    body: bytes

    @property
    def text(self):
        """The body as text, the way a browser would guess its charset."""
        return self.body.decode("utf-8", errors="replace")

    def header_values(self, name):
        """All values of header `name` in the order received, not merged."""
        return self.headers.getlist(name)


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy on loopback, and the credentials it asks for."""

    port: int
    username: str
    password: str

    @property
    def url(self):
        """The proxy's URL without credentials."""
        return f"http://{LOOPBACK}:{self.port}"


class Transport:
    """Send single requests to lab URLs over real sockets and real TLS."""

    def __init__(self, network, ca_path, proxy=None):
        self.network = network
        self.ca_path = ca_path
        self.proxy = proxy
        self._pools = {}
        self._proxy_manager = None

    def send(self, method, url, headers=None, body=None):
        """Send one request and return its `Response`; never follow redirects."""
        try:
            host, port, real = self.network.target(url)
        except ValueError as err:
            raise OutsideLabError(str(err)) from err
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        fields = {"Host": _host_header(host, port, parts.scheme)}
        fields.update(headers or {})

        try:
            if self.proxy is None:
                pool = self._pool(parts.scheme, host, real)
                raw = pool.urlopen(
                    method, target, body=body, headers=fields,
                    redirect=False, retries=False, timeout=_TIMEOUT,
                )
            else:
                raw = self._through_proxy().urlopen(
                    method, url, body=body, headers=fields,
                    redirect=False, retries=False, timeout=_TIMEOUT,
                )
        except urllib3.exceptions.HTTPError as err:
            raise BrowserError(_explain(url, err)) from err
        return Response(url, raw.status, raw.headers, raw.data)

    def close(self):
        """Close every connection this transport opened."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        if self._proxy_manager is not None:
            self._proxy_manager.clear()

    def _pool(self, scheme, host, real):
        """A connection pool to the real server behind `host`."""
        key = (scheme, host, real)
        if key not in self._pools:
            if scheme == "https":
                # Connect to loopback but speak TLS as `host`: SNI and the
                # certificate check use the lab name, as a browser would.
                self._pools[key] = urllib3.HTTPSConnectionPool(
                    LOOPBACK, real, ca_certs=self.ca_path,
                    server_hostname=host, assert_hostname=host,
                )
            else:
                self._pools[key] = urllib3.HTTPConnectionPool(LOOPBACK, real)
        return self._pools[key]

    def _through_proxy(self):
        """The proxy manager, made on first use."""
        if self._proxy_manager is None:
            auth = f"{self.proxy.username}:{self.proxy.password}"
            self._proxy_manager = urllib3.ProxyManager(
                self.proxy.url,
                proxy_headers=urllib3.make_headers(proxy_basic_auth=auth),
                ca_certs=self.ca_path,
            )
        return self._proxy_manager


def _host_header(host, port, scheme):
    """The Host header: the name alone on the scheme's default port."""
    if port == DEFAULT_PORTS.get(scheme):
        return host
    return f"{host}:{port}"


def _explain(url, err):
    """A sentence for a failed exchange, as a browser's error page would say."""
    reason = getattr(err, "reason", None) or err
    if isinstance(reason, urllib3.exceptions.SSLError) or "CERTIFICATE" in str(
        reason
    ):
        return (
            f"Could not open {url}: the TLS certificate was not trusted or the "
            f"handshake failed ({reason}). A browser shows a hard error here."
        )
    return f"Could not open {url}: {reason}."
