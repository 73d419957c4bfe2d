"""The attacker: real mitmdump in a subprocess, running the lab's addon.

The proxy (labapp/mitmdump.py) lives in its own process and session: a
Jupyter kernel's event loop cannot disturb it (case F16), "Interrupt kernel"
does not reach it, and it cannot outlive the kernel (PR_SET_PDEATHSIG here, a
watchdog in the addon).
"""

import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import LabStartError
from .transport import Proxy

_PR_SET_PDEATHSIG = 1
_READY_SECONDS = 30


@dataclass(frozen=True)
class Event:
    """One thing the attacker saw, as its addon recorded it."""

    seq: int
    time: float
    kind: str
    data: dict

    def __getitem__(self, key):
        return self.data[key]


class Attacker:
    """Start, watch and stop one lab's mitmdump, and read what it captured."""

    def __init__(self, folder, ca_path):
        self.folder = Path(folder)
        self.ca_path = ca_path
        self.proxy = None
        self._password = secrets.token_urlsafe(24)
        self._process = None
        self._log = None
        self._events_path = self.folder / "events.jsonl"
        self._ready_path = self.folder / "proxy-ready.json"
        self._read_offset = 0
        self._events = []

    @property
    def running(self):
        """Whether the proxy process is alive."""
        return self._process is not None and self._process.poll() is None

    def spawn(self):
        """Launch mitmdump; it boots while the caller builds the bank.

        The CA file need not exist yet: mitmdump reads it when it first
        connects upstream, which is after `connect`.
        """
        command = _command(self.folder / "mitm", self.ca_path)
        self._log = open(self.folder / "mitmdump.log", "wb")
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
            env=_child_env(), start_new_session=True,
            preexec_fn=_die_with_parent if _can_die_with_parent() else None,
        )

    def connect(self, network):
        """Hand mitmdump the lab's network; `wait_ready` then waits for it."""
        config = {
            "hosts": network.as_config(),
            "events": str(self._events_path),
            "ready": str(self._ready_path),
            "parent_pid": os.getpid(),
            "lab_dir": str(self.folder),
            "proxyauth": f"lab:{self._password}",
        }
        # The addon reads its config from stdin once it runs; closing the
        # pipe tells it the config is whole.
        try:
            self._process.stdin.write(json.dumps(config).encode())
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # It exited already; wait_ready says why.

    def wait_ready(self):
        """Wait, with a limit, until mitmdump listens; then it is the proxy."""
        port = self._wait_ready()
        self.proxy = Proxy(port, "lab", self._password)

    def terminate(self):
        """Ask the proxy to stop, without waiting; `stop` then waits."""
        if self._process is not None and self._process.poll() is None:
            # A proxy still waiting for its config only stops once its stdin
            # closes: SIGTERM alone would leave it to the kill in `stop`.
            self._process.stdin.close()
            self._process.terminate()

    def stop(self):
        """Stop the proxy by its PID and wait for it; safe to call twice."""
        if self._process is not None:
            if self._process.poll() is None:
                self.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=5)
            self._process.stdin.close()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self.proxy = None

    def events(self, kind=None):
        """Every event captured so far, oldest first, optionally of one kind."""
        self._read_new()
        return [e for e in self._events if kind is None or e.kind == kind]

    def clear(self):
        """Forget what was captured so far, so the next demo starts clean."""
        self._read_new()
        self._events = []

    def passwords(self):
        """The submitted form fields that carry a password."""
        return [
            e["fields"] for e in self.events("form")
            if any("pass" in name.lower() for name in e["fields"])
        ]

    def cookies(self):
        """The cookies seen in Cookie headers, name -> last value seen."""
        seen = {}
        for event in self.events("cookie"):
            seen.update(event["cookies"])
        return seen

    def _wait_ready(self):
        """Poll for the ready file the addon writes once it listens."""
        deadline = time.monotonic() + _READY_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LabStartError(
                    "The attacker (mitmdump) exited while starting, with code "
                    f"{self._process.returncode}. Its log ends with:\n"
                    f"{self._log_tail()}"
                )
            if self._ready_path.exists():
                return json.loads(self._ready_path.read_text())["port"]
            time.sleep(0.02)
        self.stop()
        raise LabStartError(
            f"The attacker (mitmdump) was not ready after {_READY_SECONDS} s. "
            "Restart the kernel and run the notebook again; if it persists, "
            "the machine may be out of memory."
        )

    def _log_tail(self, lines=15):
        """The last lines mitmdump wrote, for an error message."""
        self._log.flush()
        try:
            text = (self.folder / "mitmdump.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no log: the lab's folder is gone)"
        return "\n".join(text.splitlines()[-lines:])

    def _read_new(self):
        """Read events appended since the last read (whole lines only)."""
        if not self._events_path.exists():
            return
        with open(self._events_path, "rb") as stream:
            stream.seek(self._read_offset)
            chunk = stream.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._read_offset += len(complete)
        for line in complete.splitlines():
            record = json.loads(line)
            self._events.append(Event(
                record.pop("seq"), record.pop("time"), record.pop("kind"), record
            ))


def _command(confdir, ca_path):
    """The command line of the lab's mitmdump; the config follows on stdin.

    Every local user can read a command line, so the proxy's credentials
    travel in the config instead.
    """
    return [
        # -P: the kernel's folder, which is the child's too, must not come
        # first on sys.path, or a learner's gzip.py would shadow the real one.
        sys.executable, "-P", "-m", "labapp.mitmdump", str(confdir),
        "--quiet", "--listen-port", "0",
        "--set", "labapp_config=-",
        # RFC 6797 12.1 / case F20: trust exactly the lab CA upstream and
        # never fall back to turning verification off.
        "--set", f"ssl_verify_upstream_trusted_ca={ca_path}",
        # mitmproxy's own pages (mitm.it) are no part of the lab.
        "--set", "onboarding=false",
    ]


def _child_env():
    """The environment for mitmdump: ours, with the package importable."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, env.get("PYTHONPATH")) if p
    )
    return env


def _can_die_with_parent():
    """Whether PR_SET_PDEATHSIG applies: Linux, from the main thread.

    Linux sends the signal when the thread that started the child ends, so
    from any other thread the addon's watchdog is the only guard.
    """
    on_main = threading.current_thread() is threading.main_thread()
    return sys.platform.startswith("linux") and on_main


def _die_with_parent():
    """In the child: ask Linux to send SIGTERM when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
