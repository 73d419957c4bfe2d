"""A classroom on one machine: many labs at once, and users who share it.

The 30 labs run in 30 processes, one lab each, as 30 learners' kernels would:
each has its own PID for the attacker to watch and its own lab folder, which
one process holding 30 labs would not show. The tests about other users need
root, to make a throwaway user to act as the neighbour.
"""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from labapp import BANK, Lab

from .test_addon import Proxy as RawProxy
from .processes import alive
from .users import local_user, why_no_users

ROOT = Path(__file__).resolve().parent.parent
LABS = 30
STEP_SECONDS = 120  # each step of all 30 labs together, on 2 slow cores


class Learner:
    """One `tests.classroom_learner` process, read line by line with a limit."""

    def __init__(self, number, folder):
        self.number = number
        self.log_path = folder / f"learner-{number}.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.classroom_learner", str(number)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, text=True,
            )  # fmt: skip
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def send(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def answer(self, deadline):
        """The next answer, waiting at most until `deadline` (monotonic)."""
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = ""
        if not line:
            log = self.log_path.read_text()[-2000:]
            raise AssertionError(f"learner {self.number} gave no answer:\n{log}")
        return json.loads(line)

    def end(self):
        """Stop this learner's process by its PID, if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdin.close()
        self.process.stdout.close()


def ask_all(learners, command=None):
    """Send `command` to every learner, then collect every answer."""
    if command:
        for learner in learners:
            learner.send(command)
    deadline = time.monotonic() + STEP_SECONDS
    return [learner.answer(deadline) for learner in learners]


def wait_until_gone(pids, folders, seconds=15):
    """Wait until no PID runs and no folder exists; return what remains."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        left += [f for f in folders if os.path.exists(f)]
        if not left:
            break
        time.sleep(0.1)
    return left


def test_thirty_labs_at_once_pass_their_checks_and_keep_to_themselves(tmp_path):
    learners = []
    try:
        for number in range(LABS):
            learners.append(Learner(number, tmp_path))
        started = ask_all(learners)
        results = ask_all(learners, "go")
        captured = ask_all(learners, "events")
        stopped = ask_all(learners, "stop")
        for learner in learners:
            learner.process.wait(timeout=30)
    finally:
        for learner in learners:
            learner.end()

    for number, result in enumerate(results):
        failed = {s: name for s, (name, ok) in result["passed"].items() if not ok}
        assert failed == {}, f"lab {number} failed the checks with {failed}"
        assert result["address"] == f"[Not secure] http://{BANK}/?lab={number}"
    for number, answer in enumerate(captured):
        markers = set(re.findall(r"lab=(\d+)", json.dumps(answer["events"])))
        assert markers == {str(number)}, f"lab {number} captured {markers}"
    assert all(answer == {"stopped": True} for answer in stopped)

    pids = [a["pid"] for a in started] + [one.process.pid for one in learners]
    folders = [a["folder"] for a in started]
    assert len(set(folders)) == LABS
    assert wait_until_gone(pids, folders) == []


# Other local users: the neighbour must not use a learner's proxy or read it.


class Neighbour:
    """Another local user on the same machine, and a Python it can run."""

    def __init__(self, user, python):
        self.user = user
        self.python = python

    def run(self, script, *args):
        """Run a stdlib-only `script` as this user; return what it printed."""
        done = self.user.run([self.python, "-c", script, *map(str, args)], timeout=30)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def neighbour():
    reason = why_no_users()
    if reason:
        pytest.skip(reason)
    with local_user() as user:
        python = user.python(at_least=(3, 8))
        if python is None:
            pytest.skip("no Python that a non-root user can run")
        yield Neighbour(user, python)


# Status codes for requests from the neighbour: none, and wrong, credentials.
KNOCK = """
import base64, json, socket, sys
port, password = int(sys.argv[1]), sys.argv[2]

def status(head):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode())
        return int(sock.makefile("rb").readline().split()[1])

def auth(user, secret):
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return f"Proxy-Authorization: Basic {token}\\r\\n"

get = "GET http://bank.test/ HTTP/1.1\\r\\nHost: bank.test\\r\\n"
connect = "CONNECT bank.test:443 HTTP/1.1\\r\\n"
tries = {"none": "", "wrong-password": auth("lab", password[::-1]),
         "wrong-user": auth("alice", password), "empty": auth("", "")}
print(json.dumps({
    f"{how}-{name}": status(head + extra + "\\r\\n")
    for how, head in (("get", get), ("connect", connect))
    for name, extra in tries.items()
}))
"""


def test_another_user_cannot_use_the_proxy(lab, neighbour):
    lab.attacker.clear()
    proxy = lab.attacker.proxy

    statuses = neighbour.run(KNOCK, proxy.port, proxy.password)

    assert set(statuses.values()) == {407}, statuses
    assert len(statuses) == 8
    assert lab.attacker.events() == []


PEEK = """
import json, os, sys

def attempt(action, path):
    try:
        action(path)
    except PermissionError:
        return "PermissionError"
    return "allowed"

folder, events = sys.argv[1], sys.argv[2]
print(json.dumps({
    "list-folder": attempt(os.listdir, folder),
    "read-events": attempt(lambda p: open(p).read(), events),
    "read-config": attempt(lambda p: open(p).read(), folder + "/attacker.json"),
}))
"""


def test_another_user_cannot_read_the_captures(lab, neighbour):
    folder = Path(lab.folder)
    events = lab.attacker._events_path
    lab.victim().open(f"http://{BANK}/")

    outcomes = neighbour.run(PEEK, folder, events)

    assert folder.stat().st_mode & 0o777 == 0o700
    assert events.stat().st_mode & 0o777 == 0o600
    assert outcomes == dict.fromkeys(outcomes, "PermissionError")
    assert len(outcomes) == 3


SNOOP = """
import json, sys
pid = sys.argv[1]
seen = {}
for part in ("cmdline", "environ"):
    try:
        with open(f"/proc/{pid}/{part}", "rb") as stream:
            seen[part] = stream.read().decode(errors="replace")
    except PermissionError:
        seen[part] = ""
print(json.dumps(seen))
"""


def test_another_user_cannot_learn_the_proxy_password(lab, neighbour):
    seen = neighbour.run(SNOOP, lab.attacker._process.pid)

    assert lab.attacker.proxy.password not in seen["cmdline"]
    assert lab.attacker.proxy.password not in seen["environ"]


# The proxy refuses what is not the lab's, before any name lookup. The cases
# in test_addon.py (an Internet name, 169.254.169.254, another local server,
# the proxy itself, the bank's real port) are not repeated here; these are
# the rest, against a real lab whose mitmdump cannot look names up.

# Imported first by every Python started with this folder on PYTHONPATH:
# any lookup of a name (not a literal address) is written down and fails.
TRIPWIRE = """
import ipaddress, os, socket

_LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lookups.txt")
_getaddrinfo = socket.getaddrinfo

def _is_address(host):
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
    except ValueError:
        return False
    return True

def _tripped(host):
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()} {host}\\n")
    raise socket.gaierror(socket.EAI_NONAME, f"the lab looked up {host}")

def getaddrinfo(host, *args, **kwargs):
    if host is None or _is_address(host):
        return _getaddrinfo(host, *args, **kwargs)
    _tripped(host)

def gethostbyname(host):
    _tripped(host)

socket.getaddrinfo = getaddrinfo
socket.gethostbyname = socket.gethostbyname_ex = gethostbyname
with open(_LOG + ".armed", "a") as armed:
    armed.write(f"{os.getpid()}\\n")
"""


class Tripwire:
    """A folder that, on PYTHONPATH, makes name lookups fail and be recorded."""

    def __init__(self, folder):
        self.folder = folder
        (folder / "sitecustomize.py").write_text(TRIPWIRE)

    def lookups(self):
        """Every name looked up so far, as "pid host" lines."""
        path = self.folder / "lookups.txt"
        return path.read_text().splitlines() if path.exists() else []

    def armed_in(self, pid):
        """Whether the tripwire was loaded into process `pid`."""
        path = self.folder / "lookups.txt.armed"
        return path.exists() and str(pid) in path.read_text().split()


class Bystander(ThreadingHTTPServer):
    """A local server on an OS-picked port that must never be reached."""

    def __init__(self):
        self.seen = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.seen.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]


@pytest.fixture(scope="module")
def tripwire(tmp_path_factory):
    return Tripwire(tmp_path_factory.mktemp("tripwire"))


@pytest.fixture(scope="module")
def guarded_lab(tripwire):
    """A lab whose mitmdump fails, and tells, on any name lookup."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(tripwire.folder)
    try:
        lab = Lab().start()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def bystander():
    server = Bystander()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_tripwire_is_armed_and_the_lab_works_without_lookups(guarded_lab, tripwire):
    page = guarded_lab.victim().open(f"http://{BANK}/")

    assert tripwire.armed_in(guarded_lab.attacker._process.pid)
    assert page.status == 200
    assert tripwire.lookups() == []


def test_the_tripwire_catches_a_lookup(tmp_path):
    # The same mechanism, in a throwaway Python: a name lookup is recorded.
    tripwire = Tripwire(tmp_path)
    probe = (
        "import socket\n"
        "try: socket.getaddrinfo('probe.invalid', 80)\n"
        "except OSError: pass"
    )
    env = {**os.environ, "PYTHONPATH": str(tripwire.folder)}
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=30)

    assert [line.split()[1] for line in tripwire.lookups()] == ["probe.invalid"]


OUTSIDE = [
    pytest.param("does-not-exist.invalid", id="unresolvable-name"),
    pytest.param("metadata.google.internal", id="metadata-name"),
    pytest.param("169.254.169.254:8080", id="metadata-address-other-port"),
    pytest.param("localhost", id="localhost"),
    pytest.param("localhost:{bystander}", id="localhost-other-port"),
    pytest.param("127.0.0.2:{bystander}", id="other-loopback-address"),
    pytest.param("[::1]:{bystander}", id="ipv6-loopback"),
    pytest.param("0.0.0.0:{bystander}", id="any-address"),
    pytest.param("2130706433:{bystander}", id="loopback-as-a-number"),
    pytest.param("localhost:{proxy}", id="proxy-by-name"),
    pytest.param("127.0.0.1:{https}", id="bank-real-https-port"),
    pytest.param("other.test", id="other-test-name"),
    pytest.param("www.bank.test", id="bank-subdomain"),
    pytest.param("evilbank.test", id="name-ending-like-the-bank"),
    pytest.param("bank.test.evil.invalid", id="bank-name-as-a-prefix"),
]


def split_target(target, default_port):
    """(host, port) of a host[:port] target, as the proxy reports them."""
    parts = urlsplit(f"//{target}")
    return parts.hostname, parts.port or default_port


@pytest.mark.parametrize("method", ["GET", "CONNECT"])
@pytest.mark.parametrize("template", OUTSIDE)
def test_the_proxy_refuses_what_is_not_the_labs_without_a_lookup(
    guarded_lab, tripwire, bystander, method, template
):
    proxy = guarded_lab.attacker.proxy
    target = template.format(
        bystander=bystander.port, proxy=proxy.port, https=guarded_lab.site.https_port
    )
    host, port = split_target(target, 443 if method == "CONNECT" else 80)
    if method == "CONNECT":
        head = f"CONNECT {target if ':' in target else f'{target}:443'} HTTP/1.1\r\n"
    else:
        head = f"GET http://{target}/ HTTP/1.1\r\nHost: {target}\r\n"
    raw = RawProxy(proxy.port, proxy.password, events_path=None)
    guarded_lab.attacker.clear()

    started = time.monotonic()
    status = raw.send_raw(head + raw.auth_header() + "\r\n")
    seconds = time.monotonic() - started

    assert status == 403
    assert seconds < 1.0
    (refused,) = guarded_lab.attacker.events()
    assert (refused.kind, refused["host"], refused["port"]) == ("refused", host, port)
    assert tripwire.lookups() == []
    assert bystander.seen == []
