"""Throwaway local users, so a test can act as a learner or a neighbour on a hub.

Only root can make them, so tests that need one skip otherwise. Each user gets
a home of its own in a fresh temporary folder; when the test ends, whatever it
still runs is killed by PID and the user, its group and its home are deleted.
"""

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

# The Pythons a user other than root may be able to run. The one running the
# tests may live in root's home (pyenv), which nobody else can enter.
PYTHON_NAMES = ("python3.11", "python3.12", "python3.13", "python3")

# Passed on to a user's pip, so it reaches the same index root's pip does.
PIP_SETTINGS = ("http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE")


def why_no_users():
    """Why throwaway users cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return "making a throwaway local user needs root"
    missing = [name for name in ("useradd", "userdel") if not shutil.which(name)]
    if missing:
        return f"{' and '.join(missing)} not found, so no throwaway local user"
    return None


class LocalUser:
    """A local user that exists only for one test."""

    def __init__(self, name, home):
        entry = pwd.getpwnam(name)
        self.name = name
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid
        self.home = Path(home)

    def env(self, path=SYSTEM_PATH):
        """A login-like environment: this user's HOME, a plain PATH."""
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": path,
            "LANG": "C.UTF-8",
        }
        for name, value in os.environ.items():
            if name.startswith("PIP_") or name.lower() in PIP_SETTINGS:
                env[name] = value
        return env

    def run(self, args, *, timeout, env=None, cwd=None, **kwargs):
        """Run `args` as this user and wait; the output is captured as text."""
        return subprocess.run(
            args, check=False, user=self.uid, group=self.gid, extra_groups=[],
            env=env or self.env(), cwd=cwd or self.home, timeout=timeout,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, **kwargs,
        )  # fmt: skip

    def python(self, prefer=None, at_least=(3, 11)):
        """A Python this user can run, with venv, or None.

        `prefer` ("3.11") is tried first; otherwise any at least `at_least`.
        """
        names = ([f"python{prefer}"] if prefer else []) + list(PYTHON_NAMES)
        probe = (
            "import sys, venv, ensurepip; "
            f"sys.exit(sys.version_info[:2] < {tuple(at_least)!r})"
        )
        for name in names:
            found = shutil.which(name, path=SYSTEM_PATH)
            if found and self.run([found, "-c", probe], timeout=30).returncode == 0:
                return found
        return None

    def processes(self):
        """The PIDs of this user's live processes (zombies are not live)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as stream:
                    fields = dict(line.split(":", 1) for line in stream if ":" in line)
            except (FileNotFoundError, ProcessLookupError):
                continue
            uid = int(fields["Uid"].split()[1])
            if uid == self.uid and not fields["State"].strip().startswith("Z"):
                found.append(int(entry))
        return found

    def wait_for_no_processes(self, seconds=10):
        """Wait until this user runs nothing; return what still runs."""
        deadline = time.monotonic() + seconds
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.processes()


@contextlib.contextmanager
def local_user():
    """Make a throwaway user with a home of its own; delete it afterwards."""
    base = Path(tempfile.mkdtemp(prefix="labtest-user-"))
    base.chmod(0o755)
    name = f"labt{secrets.token_hex(4)}"
    home = base / "home"
    _useradd(name, home)
    user = LocalUser(name, home)
    try:
        yield user
    finally:
        # Anything still running as this user was started by this test.
        for pid in user.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        user.wait_for_no_processes(seconds=5)
        _retry(["userdel", "--remove", name])
        shutil.rmtree(base, ignore_errors=True)


def _useradd(name, home):
    """Create the user and its group; the home is made from /etc/skel."""
    _retry([
        "useradd", "--create-home", "--home-dir", str(home),
        "--shell", "/bin/sh", "--user-group", "--no-log-init", name,
    ])  # fmt: skip


def _retry(command, attempts=20):
    """Run a user-database command; retry while another holds its lock."""
    for _ in range(attempts):
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=30
        )
        # 1 and 10 are "cannot update the password (group) file": another
        # program holds the lock for a moment.
        if done.returncode not in (1, 10):
            break
        time.sleep(0.25)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
