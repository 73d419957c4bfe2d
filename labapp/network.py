"""The lab's virtual network: names under `.test` mapped to loopback ports.

The learner sees clean URLs such as ``http://bank.test/``. Behind them, the
logical ports 80 and 443 of each lab name lead to servers on 127.0.0.1 whose
ports the OS picked. Default logical ports matter: RFC 6797 8.3 keeps a
non-default port when HSTS upgrades a URL, so only 80 -> 443 lands on the
HTTPS server.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

BANK = "bank.test"
LOOPBACK = "127.0.0.1"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Ports:
    """The real loopback ports behind one lab name."""

    http: int
    https: int


@dataclass(frozen=True)
class Network:
    """Which lab names exist and where their logical ports really listen."""

    hosts: dict[str, Ports]

    def real_port(self, host, port):
        """Return the loopback port behind `host:port`, or None if not the lab's."""
        ports = self.hosts.get(_normal_host(host))
        if ports is None:
            return None
        return {80: ports.http, 443: ports.https}.get(port)

    def target(self, url):
        """Return ``(host, logical port, real port)`` for a lab URL.

        Raises ValueError for a URL outside the lab, so nothing ever leaves
        the machine by mistake.
        """
        parts = urlsplit(url)
        host = _normal_host(parts.hostname or "")
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        real = self.real_port(host, port)
        if real is None:
            raise ValueError(
                f"{url!r} is not part of the lab; the lab only reaches "
                f"{', '.join(sorted(self.hosts))} on ports 80 and 443."
            )
        return host, port, real

    def as_config(self):
        """Return the mapping as plain data, for the attacker's config file."""
        return {
            name: {"http": p.http, "https": p.https}
            for name, p in self.hosts.items()
        }


def _normal_host(host):
    """Lower-case a host name and drop a trailing dot."""
    return host.lower().rstrip(".")
