"""The lab's mitmdump: mitmproxy's own, with the lab's addon built in.

Run as `python -P -m labapp.mitmdump CONFDIR [mitmdump options]`. It is the
real mitmdump (mitmproxy's DumpMaster, command line and start-up), with
three differences that scripts/benchmark.py measures in the lab's start and
stop:

- The addon is added to the master, not loaded from a file by `-s`, so it is
  in place before any option is set and no script watcher wakes every second.
- mitmproxy needs a CA in CONFDIR even though the lab never opens a victim's
  TLS. Its own is RSA: 0.1-0.3 s to make and tens of ms to load, twice. An
  ECDSA one is written there first, in milliseconds.
- Once mitmproxy has stopped, the process exits at once (see `main`).

It always listens on 127.0.0.1, whatever the options say.
"""

import os
import sys
from pathlib import Path

from mitmproxy.options import CONF_BASENAME
from mitmproxy.tools import cmdline, dump
from mitmproxy.tools.main import run

from labapp import pki
from labapp.addon import LabAttacker
from labapp.network import LOOPBACK

USAGE = "usage: python -P -m labapp.mitmdump CONFDIR [mitmdump options]"


class LabMaster(dump.DumpMaster):
    """mitmdump's master, with the lab's addon after mitmproxy's own."""

    def __init__(self, options):
        super().__init__(options)
        self.attacker = LabAttacker()
        self.addons.add(self.attacker)


def main(args):
    """Write the proxy's CA into the confdir `args[0]`, then run mitmdump."""
    if not args or args[0].startswith("-"):
        sys.exit(USAGE)
    confdir, *options = args
    confdir = Path(confdir).expanduser()
    try:
        # No parents: a lab folder deleted meanwhile must stay deleted.
        confdir.mkdir(mode=0o700, exist_ok=True)
        pki.write_proxy_ca(confdir / f"{CONF_BASENAME}-ca.pem")
    except OSError as err:
        sys.exit(f"labapp.mitmdump: cannot write the proxy's CA in {confdir}: {err}")
    # Options given last win: the lab binds only 127.0.0.1.
    options += ["--listen-host", LOOPBACK, "--set", f"confdir={confdir}"]
    master = run(LabMaster, cmdline.mitmdump, options)
    # mitmproxy has stopped: the addon closed its files and the lab's folder
    # is gone. Tearing down the interpreter would take the kernel that waits
    # for us another 0.1-0.2 s, for nothing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if master.attacker.failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
