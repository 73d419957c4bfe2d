"""The benchmark's only addon for the bare mitmdump: write the port once up.

Loaded with `mitmdump -s scripts/bench_ready.py --set bench_ready=<file>`.
The `running` hook fires once the proxy listens; the port is written whole
(a temp file, then a rename), the same signal the lab's own addon gives.
"""

import os

from mitmproxy import ctx


class BenchReady:
    """Write the listening port to the file the `bench_ready` option names."""

    def load(self, loader):
        loader.add_option(
            "bench_ready", str, "", "File to write the listening port to."
        )

    def running(self):
        port = ctx.master.addons.get("proxyserver").listen_addrs()[0][1]
        temp = ctx.options.bench_ready + ".tmp"
        with open(temp, "w") as stream:
            stream.write(str(port))
        os.replace(temp, ctx.options.bench_ready)


addons = [BenchReady()]
