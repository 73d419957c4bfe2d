"""Which processes live, read from /proc (Linux only), for lifecycle tests."""

import os
import subprocess
import time


def alive(pid):
    """Whether `pid` runs and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def stop(process, seconds=10):
    """Stop a process we started, by its PID: politely, then for good."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=seconds)


def family(pid):
    """`pid` and every process descended from it."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stream:
                parents[int(entry)] = int(stream.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    found, grew = {pid}, True
    while grew:
        children = {p for p, parent in parents.items() if parent in found}
        grew = not children <= found
        found |= children
    return found


def mitmdumps(pid):
    """The live mitmdump processes among `pid`'s descendants, sorted."""
    found = []
    for member in family(pid) - {pid}:
        try:
            with open(f"/proc/{member}/cmdline", "rb") as stream:
                command = stream.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if _is_mitmdump(command) and alive(member):
            found.append(member)
    return sorted(found)


def wait_gone(pids, folder, seconds=10):
    """Wait until no PID in `pids` is alive and `folder` is deleted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(map(alive, pids)) and not os.path.exists(folder):
            return True
        time.sleep(0.05)
    return False


def _is_mitmdump(command):
    """Whether a command line is the lab's mitmdump or mitmproxy's own."""
    return b"labapp.mitmdump" in command or any(
        part.endswith(b"/mitmdump") for part in command
    )
