"""The attacker's addon inside a real mitmdump, against real local servers."""

import base64
import gzip
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import brotli
import pytest
import trustme
import urllib3
import zstandard
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import WSGIRequestHandler, make_server

from .processes import stop

ROOT = Path(__file__).resolve().parent.parent
MITMDUMP = Path(sys.executable).with_name("mitmdump")
READY_SECONDS = 20

PAGE = (
    '<a href="https://bank.test/login">Log in</a>'
    '<script src="HTTPS://static.bank.test:443/app.js"></script>'
)

COMPRESS = {
    "gzip": gzip.compress,
    "br": brotli.compress,
    "deflate": zlib.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request."""

    def log(self, type, message, *args):
        pass


def make_bank():
    """A bank that redirects plain HTTP to HTTPS and sets every weak header."""
    app = Flask(__name__)

    @app.before_request
    def upgrade():
        if not request.is_secure and request.host == "bank.test":
            return redirect(request.url.replace("http:", "https:", 1), 301)

    @app.get("/")
    def home():
        response = Response(PAGE, content_type="text/html; charset=utf-8")
        response.headers.add("Strict-Transport-Security", "max-age=600")
        response.headers.add("Strict-Transport-Security", "max-age=0")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; upgrade-insecure-requests"
        )
        for cookie in (
            "sid=abc123; Secure; HttpOnly; Path=/",
            "prefs=dark; SameSite=None; Secure",
            "theme=1;secure",
            "__Host-token=xyz; Secure; Path=/",
        ):
            response.headers.add("Set-Cookie", cookie)
        return response

    @app.get("/compressed/<encoding>")
    def compressed(encoding):
        response = Response(COMPRESS[encoding](PAGE.encode()))
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers["Content-Encoding"] = encoding
        return response

    @app.get("/mixed")
    def mixed():
        response = Response("hello", content_type="text/plain")
        response.headers["Content-Security-Policy"] = (
            "block-all-mixed-content; upgrade-insecure-requests"
        )
        return response

    @app.post("/login")
    def login():
        return redirect("https://bank.test:443/account", 302)

    @app.get("/echo")
    def echo():
        return jsonify(scheme=request.scheme, headers=dict(request.headers))

    return app


class Served:
    """A WSGI app on a loopback port the OS picked, counting what it saw."""

    def __init__(self, app, ssl_context=None):
        self.seen = []
        self.server = make_server(
            "127.0.0.1",
            0,
            self.record(app),
            threaded=True,
            ssl_context=ssl_context,
            request_handler=QuietHandler,
        )
        self.port = self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, app):
        def recording(environ, start_response):
            self.seen.append((environ.get("HTTP_HOST"), environ["PATH_INFO"]))
            return app(environ, start_response)

        return recording

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def mitmdump_command(config, confdir, ca_pem, password, plain=False):
    """The lab's mitmdump command line, on an OS-picked port.

    With `plain`, mitmproxy's own mitmdump loading the addon with -s instead.
    """
    if plain:
        start = [str(MITMDUMP), "-s", str(ROOT / "labapp" / "addon.py")]
        start += ["--set", f"confdir={confdir}"]
    else:
        start = [sys.executable, "-P", "-m", "labapp.mitmdump", str(confdir)]
    return [
        *start, "-q",
        "--listen-host", "127.0.0.1", "--listen-port", "0",
        "--set", f"labapp_config={config}",
        "--set", f"ssl_verify_upstream_trusted_ca={ca_pem}",
        "--set", f"proxyauth=lab:{password}",
    ]  # fmt: skip


def child_env():
    """Our environment with the repository importable, as the launcher does."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def wait_for(predicate, seconds):
    """Poll `predicate` every 20 ms until it is true or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def read_events(path):
    """Every event the addon wrote, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def has_exited(pid):
    """Whether a process we did not start (so cannot wait for) has ended."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            state = stream.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


class Proxy:
    """One running mitmdump: where it listens, its secret and its record."""

    def __init__(self, port, password, events_path):
        self.port = port
        self.password = password
        self.events_path = events_path

    def auth_header(self):
        """The header line that lets a raw request past proxyauth."""
        token = base64.b64encode(f"lab:{self.password}".encode()).decode()
        return f"Proxy-Authorization: Basic {token}\r\n"

    def send_raw(self, head):
        """Send one request head; return the proxy's status code."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(head.encode())
            status_line = sock.makefile("rb").readline().decode()
        return int(status_line.split()[1])


class Capture:
    """The events a proxy recorded since this capture began."""

    def __init__(self, proxy):
        self.path = proxy.events_path
        self.start = len(read_events(self.path))

    def events(self, kind=None):
        """The new events, optionally only those of one kind."""
        return [
            event
            for event in read_events(self.path)[self.start :]
            if kind is None or event["kind"] == kind
        ]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_pem(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "lab-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def sites(ca):
    """The bank over HTTP and HTTPS, and a bystander the proxy must not reach."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("bank.test").configure_cert(context)
    bank = make_bank()
    servers = {
        "http": Served(bank),
        "https": Served(bank, context),
        "bystander": Served(make_bank()),
    }
    yield servers
    for server in servers.values():
        server.stop()


def start_mitmdump(folder, sites, ca_pem, password):
    """Write the config and launch mitmdump, its output going to a log file."""
    config = folder / "attacker.json"
    config.write_text(json.dumps(lab_config(folder, sites, os.getpid())))
    with open(folder / "mitmdump.log", "wb") as log:
        return subprocess.Popen(
            mitmdump_command(config, folder / "mitm", ca_pem, password),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env(),
            start_new_session=True,
        )


def lab_config(folder, sites, parent_pid):
    """The addon's JSON config for the test bank."""
    return {
        "hosts": {
            "bank.test": {"http": sites["http"].port, "https": sites["https"].port},
            "plain.test": {"http": sites["http"].port, "https": None},
        },
        "events": str(folder / "events.jsonl"),
        "ready": str(folder / "ready.json"),
        "parent_pid": parent_pid,
        "lab_dir": str(folder),
    }


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, sites, ca_pem):
    """One mitmdump for the module, always stopped by its PID."""
    folder = tmp_path_factory.mktemp("lab")
    password = secrets.token_urlsafe(16)
    process = start_mitmdump(folder, sites, ca_pem, password)
    try:
        ready = folder / "ready.json"
        wait_for(lambda: ready.exists() or process.poll() is not None, READY_SECONDS)
        log = (folder / "mitmdump.log").read_text()
        assert ready.exists(), f"mitmdump did not start: {log}"
        port = json.loads(ready.read_text())["port"]
        yield Proxy(port, password, folder / "events.jsonl")
    finally:
        stop(process, seconds=5)


@pytest.fixture(scope="module")
def victim(proxy, ca_pem):
    """A client that uses the attacker as its proxy and trusts the lab CA."""
    manager = urllib3.ProxyManager(
        f"http://127.0.0.1:{proxy.port}",
        proxy_headers=urllib3.make_headers(proxy_basic_auth=f"lab:{proxy.password}"),
        ca_certs=str(ca_pem),
        retries=False,
        timeout=5,
    )
    yield manager
    manager.clear()


@pytest.fixture
def capture(proxy):
    return Capture(proxy)


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param({"encode_multipart": False}, id="urlencoded"),
        pytest.param({"encode_multipart": True}, id="multipart"),
    ],
)
def test_form_post_is_recorded_with_its_fields(victim, capture, encode):
    fields = {"user": "alice", "password": "hunter2"}
    response = victim.request(
        "POST", "http://bank.test/login", fields=fields, redirect=False, **encode
    )

    assert response.status == 302
    (form,) = capture.events("form")
    assert form["url"] == "http://bank.test/login"
    assert form["fields"] == fields
    (sent,) = capture.events("request")
    assert sent["method"] == "POST"
    assert sent["url"] == "http://bank.test/login"
    assert sent["upstream"] == "https"


def test_cookie_header_is_recorded(victim, capture):
    victim.request("GET", "http://bank.test/echo", headers={"Cookie": "sid=abc; a=1"})

    (cookie,) = capture.events("cookie")
    assert cookie["url"] == "http://bank.test/echo"
    assert cookie["cookies"] == {"sid": "abc", "a": "1"}


def test_https_links_in_the_body_are_rewritten(victim, capture):
    response = victim.request("GET", "http://bank.test/")

    assert 'href="http://bank.test/login"' in response.data.decode()
    assert 'src="http://static.bank.test/app.js"' in response.data.decode()
    (stripped,) = capture.events("strip")
    assert "body-links:bank.test,static.bank.test" in stripped["rewrites"]


@pytest.mark.parametrize("encoding", sorted(COMPRESS))
def test_compressed_bodies_are_rewritten_with_consistent_headers(victim, encoding):
    response = victim.request(
        "GET", f"http://bank.test/compressed/{encoding}", preload_content=False
    )
    raw = response.read(decode_content=False)

    assert b'href="http://bank.test/login"' in raw
    assert "Content-Encoding" not in response.headers
    assert int(response.headers["Content-Length"]) == len(raw)


def test_location_loses_https_and_the_default_port(victim, capture):
    response = victim.request("POST", "http://bank.test/login", redirect=False)

    assert response.headers["Location"] == "http://bank.test/account"
    (stripped,) = capture.events("strip")
    assert "location" in stripped["rewrites"]


def test_sts_headers_are_dropped(victim):
    response = victim.request("GET", "http://bank.test/")

    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    "path, expected",
    [
        pytest.param("/", ["default-src 'self'"], id="directive-removed"),
        pytest.param("/mixed", [], id="header-removed"),
    ],
)
def test_csp_upgrade_directives_are_dropped(victim, path, expected):
    response = victim.request("GET", f"http://bank.test{path}")

    assert response.headers.getlist("Content-Security-Policy") == expected


def test_set_cookie_loses_secure_and_samesite_none(victim, capture):
    response = victim.request("GET", "http://bank.test/")

    assert response.headers.getlist("Set-Cookie") == [
        "sid=abc123; HttpOnly; Path=/",
        "prefs=dark; SameSite=Lax",
        "theme=1",
        "__Host-token=xyz; Secure; Path=/",
    ]
    (stripped,) = capture.events("strip")
    assert stripped["rewrites"] == [
        "sts",
        "csp",
        "set-cookie:sid",
        "set-cookie:prefs",
        "set-cookie:theme",
        "prefixed-cookie-kept:__Host-token",
        "body-links:bank.test,static.bank.test",
    ]


def test_upgrade_insecure_requests_is_not_forwarded(victim, capture):
    response = victim.request(
        "GET", "http://bank.test/echo", headers={"Upgrade-Insecure-Requests": "1"}
    )

    assert "Upgrade-Insecure-Requests" not in response.json()["headers"]
    (stripped,) = capture.events("strip")
    assert stripped["rewrites"] == ["upgrade-insecure-requests"]


def test_upstream_is_https_so_the_banks_redirect_never_reaches_the_victim(
    victim, sites
):
    before = len(sites["http"].seen)
    response = victim.request("GET", "http://bank.test/echo", redirect=False)

    assert response.status == 200
    assert response.json()["scheme"] == "https"
    assert response.json()["headers"]["Host"] == "bank.test"
    assert sites["http"].seen[before:] == []


def test_host_header_is_forwarded_as_the_victim_sent_it(victim):
    # A bank's Host checks (F09) must see through the attacker what they
    # would see without it.
    response = victim.request(
        "GET", "http://bank.test/echo", headers={"Host": "evil.example"}
    )

    assert response.json()["headers"]["Host"] == "evil.example"


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_content_length_survives_an_empty_body(victim, method):
    response = victim.request(method, "http://bank.test/", preload_content=False)

    assert int(response.headers["Content-Length"]) > 0


def test_host_without_https_port_is_fetched_over_http(victim, capture):
    response = victim.request("GET", "http://plain.test/echo")

    assert response.json()["scheme"] == "http"
    assert response.json()["headers"]["Host"] == "plain.test"
    (sent,) = capture.events("request")
    assert sent["upstream"] == "http"


def test_connect_to_the_bank_passes_tls_through_unread(victim, capture):
    # The victim checks the certificate against the lab CA: only the bank's
    # own certificate passes, never one that mitmproxy made up.
    response = victim.request("GET", "https://bank.test/echo")

    assert response.json()["scheme"] == "https"
    (tunnel,) = capture.events()
    assert (tunnel["kind"], tunnel["host"], tunnel["port"]) == (
        "tunnel",
        "bank.test",
        443,
    )


def test_plain_http_in_a_port_80_tunnel_is_read_and_stripped(proxy, capture):
    head = (
        f"CONNECT bank.test:80 HTTP/1.1\r\n{proxy.auth_header()}\r\n"
        "GET / HTTP/1.1\r\nHost: bank.test\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(head.encode())
        answer = sock.makefile("rb").read().decode()

    assert 'href="http://bank.test/login"' in answer
    assert [event["kind"] for event in capture.events()] == [
        "tunnel",
        "request",
        "strip",
    ]
    assert capture.events("request")[0]["url"] == "http://bank.test/"


ELSEWHERE = [
    pytest.param("example.com", id="internet-name"),
    pytest.param("169.254.169.254", id="metadata-address"),
    pytest.param("127.0.0.1:{bystander}", id="other-local-server"),
    pytest.param("127.0.0.1:{proxy}", id="proxy-itself"),
    pytest.param("bank.test:8080", id="lab-host-other-port"),
    pytest.param("127.0.0.1:{bank}", id="bank-real-port"),
]


def host_port(target, default_port):
    """Split a host[:port] target as the proxy reports it."""
    host, _, port = target.partition(":")
    return host, int(port or default_port)


def authority(template, proxy, sites):
    """Fill in the ports a destination template refers to."""
    return template.format(
        bystander=sites["bystander"].port,
        proxy=proxy.port,
        bank=sites["http"].port,
    )


@pytest.mark.parametrize("template", ELSEWHERE)
def test_requests_elsewhere_are_refused(victim, proxy, sites, capture, template):
    target = authority(template, proxy, sites)
    bank_seen = len(sites["http"].seen)
    response = victim.request("GET", f"http://{target}/")

    assert response.status == 403
    (refused,) = capture.events()
    assert refused["kind"] == "refused"
    assert (refused["host"], refused["port"]) == host_port(target, 80)
    assert sites["bystander"].seen == []
    assert sites["http"].seen[bank_seen:] == []


@pytest.mark.parametrize("template", ELSEWHERE)
def test_connect_elsewhere_is_refused(proxy, sites, capture, template):
    host, port = host_port(authority(template, proxy, sites), 443)
    head = f"CONNECT {host}:{port} HTTP/1.1\r\n{proxy.auth_header()}\r\n"

    assert proxy.send_raw(head) == 403
    (refused,) = capture.events()
    assert (refused["kind"], refused["host"], refused["port"]) == (
        "refused",
        host,
        port,
    )
    assert sites["bystander"].seen == []


def test_origin_form_request_with_only_a_host_header_is_refused(proxy, capture):
    head = f"GET / HTTP/1.1\r\nHost: example.com\r\n{proxy.auth_header()}\r\n"

    assert proxy.send_raw(head) == 403
    (refused,) = capture.events()
    assert (refused["kind"], refused["host"]) == ("refused", "example.com")


@pytest.mark.parametrize(
    "head",
    [
        pytest.param("GET http://bank.test/ HTTP/1.1\r\nHost: bank.test\r\n", id="get"),
        pytest.param("CONNECT bank.test:443 HTTP/1.1\r\n", id="connect"),
    ],
)
def test_request_without_proxy_credentials_gets_407(proxy, capture, head):
    assert proxy.send_raw(head + "\r\n") == 407
    assert capture.events() == []


def test_events_are_numbered_and_private(victim, proxy):
    victim.request("GET", "http://bank.test/echo")
    events = read_events(proxy.events_path)

    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert all(isinstance(event["time"], float) for event in events)
    assert proxy.events_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "name, content, message",
    [
        pytest.param("missing.json", None, "could not be used", id="missing-file"),
        pytest.param("a.json", '{"hosts": {}}', "could not be used", id="missing-keys"),
        pytest.param("", None, "labapp_config is empty", id="empty-option"),
    ],
)
@pytest.mark.parametrize("plain", [False, True], ids=["lab-mitmdump", "plain-mitmdump"])
def test_a_bad_config_stops_mitmdump_with_a_message(
    tmp_path, ca_pem, name, content, message, plain
):
    config = tmp_path / name if name else ""
    if content is not None:
        config.write_text(content)
    finished = subprocess.run(
        mitmdump_command(config, tmp_path / "mitm", ca_pem, "secret", plain),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert finished.returncode != 0
    assert message in finished.stdout + finished.stderr


@pytest.mark.parametrize(
    "stdin, message",
    [
        pytest.param("", "No config arrived on stdin", id="empty"),
        pytest.param("{not json", "could not be used", id="not-json"),
        pytest.param('{"hosts": []}', "could not be used", id="missing-keys"),
    ],
)
def test_a_bad_config_on_stdin_stops_the_labs_mitmdump_with_a_message(
    tmp_path, ca_pem, stdin, message
):
    command = mitmdump_command("-", tmp_path / "mitm", ca_pem, "secret")
    finished = subprocess.run(
        command, input=stdin, env=child_env(), capture_output=True, text=True,
        timeout=20,
    )  # fmt: skip

    assert finished.returncode == 1
    assert message in finished.stdout + finished.stderr


@pytest.mark.parametrize("args", [[], ["--help"], ["-q"]], ids=repr)
def test_the_labs_mitmdump_without_a_confdir_shows_its_usage(tmp_path, args):
    finished = subprocess.run(
        [sys.executable, "-P", "-m", "labapp.mitmdump", *args],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=20,
    )  # fmt: skip

    assert finished.returncode != 0
    assert "usage: python -P -m labapp.mitmdump CONFDIR" in finished.stderr
    assert list(tmp_path.iterdir()) == []


# Stands in for a kernel that dies: it starts mitmdump, waits until it is
# ready, prints its PID and exits without stopping it.
PARENT = """
import json, os, subprocess, sys, time
spec = json.loads(sys.argv[1])
with open(spec["config"], "w") as stream:
    json.dump({**spec["lab"], "parent_pid": os.getpid()}, stream)
with open(spec["log"], "wb") as log:
    child = subprocess.Popen(
        spec["command"], stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, env=spec["env"], start_new_session=True,
    )
for _ in range(1000):  # 20 s at most
    if os.path.exists(spec["ready"]) or child.poll() is not None:
        break
    time.sleep(0.02)
print(child.pid)
"""


def test_mitmdump_stops_and_cleans_up_when_its_parent_dies(tmp_path, sites, ca_pem):
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    config = lab_dir / "attacker.json"
    spec = {
        "config": str(config),
        "lab": lab_config(lab_dir, sites, parent_pid=0),
        "log": str(tmp_path / "mitmdump.log"),
        "ready": str(lab_dir / "ready.json"),
        "env": child_env(),
        "command": mitmdump_command(config, lab_dir / "mitm", ca_pem, "secret"),
    }
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    pid = int(parent.stdout)
    try:
        assert wait_for(lambda: has_exited(pid), 5), "mitmdump outlived its parent"
        assert not lab_dir.exists()
    finally:
        if not has_exited(pid):
            os.kill(pid, 9)
