"""The set-up check of notebook 00: is every part of the lab working?"""

import sys
from importlib.metadata import version

from .errors import LabError
from .network import BANK


def setup_report(lab):
    """Probe the bank and the attacker; return a report, or raise with a fix."""
    lines = [
        f"Python {sys.version.split()[0]}, Flask {version('flask')}, "
        f"mitmproxy {version('mitmproxy')}",
    ]
    direct = lab.transport()
    for scheme in ("http", "https"):
        url = f"{scheme}://{BANK}/"
        status = _status(direct, url)
        lines.append(f"ok  the bank answers {url} directly ({status})")

    lab.attacker.clear()
    through = lab.transport(lab.attacker.proxy)
    _status(through, f"http://{BANK}/")
    if not lab.attacker.events("request"):
        raise LabError(
            "The attacker's proxy passed the request on but recorded nothing. "
            "Restart the kernel and run this cell again."
        )
    lab.attacker.clear()
    lines.append("ok  the attacker's proxy sees http:// traffic to the bank")
    lines.append("The lab is ready.")
    return "\n".join(lines)


def _status(transport, url):
    """GET `url`, insisting on 200; return the status line's code."""
    response = transport.send("GET", url)
    if response.status != 200:
        raise LabError(
            f"{url} answered {response.status} instead of 200. Restart the "
            "kernel and run this cell again."
        )
    return response.status
