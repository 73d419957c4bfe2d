"""What the benchmark reads from /proc, and how it stops what it started.

Linux only: memory is PSS from /proc/<pid>/smaps_rollup, CPU time is
utime + stime from /proc/<pid>/stat, children are found by their parent PID.
"""

import os
import signal
import socket
import subprocess
import time

LOOPBACK = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pss_bytes(pid):
    """The proportional set size of `pid`: its private pages, plus its share
    of every page it maps together with other processes."""
    return _rollup(pid, "Pss")


def rss_bytes(pid):
    """The resident set size of `pid`, shared pages counted in full."""
    return _rollup(pid, "Rss")


def _rollup(pid, field):
    """One field of /proc/<pid>/smaps_rollup, in bytes."""
    with open(f"/proc/{pid}/smaps_rollup") as stream:
        for line in stream:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise ValueError(f"/proc/{pid}/smaps_rollup has no {field} line.")


def cpu_seconds(pid):
    """User plus system CPU time that `pid` has used so far, all threads."""
    with open(f"/proc/{pid}/stat") as stream:
        # The command name may hold spaces and parentheses: split after it.
        fields = stream.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def alive(pid):
    """Whether `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children(pid, name):
    """The PIDs of `pid`'s direct children whose command line mentions `name`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                parent = int(stream.read().rsplit(")", 1)[1].split()[1])
            if parent != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as stream:
                if name.encode() in stream.read():
                    found.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue  # the process ended while we looked
    return found


def accepts(port):
    """Whether something accepts a TCP connection on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_file(process, path, seconds, poll=0.005):
    """Wait until `path` exists, while `process` runs; return its text.

    Raises RuntimeError if the process exits or `seconds` pass first.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as stream:
                return stream.read()
        if process.poll() is not None:
            raise RuntimeError(
                f"Process {process.pid} exited with {process.returncode} "
                f"before it wrote {path}."
            )
        time.sleep(poll)
    raise RuntimeError(f"Process {process.pid} did not write {path} in {seconds} s.")


def stop(process, seconds=5):
    """Stop a process we started, by its PID: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=seconds)


def kill(pid):
    """Stop `pid`, a descendant we started, by SIGTERM and then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if not wait_gone([pid], 5):
            return


def wait_gone(pids, seconds):
    """Wait until none of `pids` is alive; return those still alive."""
    deadline = time.monotonic() + seconds
    left = [pid for pid in pids if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if alive(pid)]
    return left
