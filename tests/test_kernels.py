"""The lab inside real Jupyter kernels: interrupt, restart, shutdown, kill."""

import os
import signal
import time

import pytest
from jupyter_client.manager import KernelManager, start_new_kernel

from .processes import alive, family, mitmdumps, wait_gone

_START = """
import labapp
lab = labapp.start_lab()
print(lab.attacker._process.pid, lab.folder)
"""


def _run(client, code):
    """Run `code` in the kernel; return what it printed, failing on an error."""
    printed = []

    def keep(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    # Right after an interrupt, the kernel aborts requests that arrive while
    # it clears its queue; Jupyter's Run All behaves the same. Ask again.
    for _ in range(3):
        reply = client.execute_interactive(code, output_hook=keep, timeout=60)
        if reply["content"]["status"] != "aborted":
            break
        time.sleep(0.2)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed)


@pytest.fixture
def kernel():
    """A fresh kernel running a lab; yields (manager, client, pid, folder)."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        pid, folder = _run(client, _START).split()
        yield manager, client, int(pid), folder
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def test_interrupting_the_kernel_leaves_the_attacker_running(kernel):
    manager, client, pid, folder = kernel

    manager.interrupt_kernel()

    assert alive(pid)
    assert "ready" in _run(client, "print(labapp.setup_report(lab))")
    manager.shutdown_kernel(now=True)
    assert wait_gone([pid], folder), f"mitmdump {pid} or {folder} survived"


@pytest.mark.parametrize(
    "end",
    [
        lambda m: m.restart_kernel(now=False),
        lambda m: m.shutdown_kernel(now=False),
        lambda m: m.shutdown_kernel(now=True),
    ],
    ids=["restart", "shutdown", "kill"],
)
def test_ending_the_kernel_leaves_no_process_and_no_file(kernel, end):
    manager, _, pid, folder = kernel

    end(manager)

    assert wait_gone([pid], folder), f"mitmdump {pid} or {folder} survived"


# Ten times each, reusing one kernel manager: every way a kernel ends, and
# interrupts at every moment of a lab's start, leave nothing running.

REPEATS = 10


def _connect(manager):
    """A client of `manager`'s kernel, ready to run code."""
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return client


def _kill_pid(manager):
    """SIGKILL to the kernel's PID alone, as the OOM killer would send it."""
    os.kill(manager.provisioner.pid, signal.SIGKILL)
    manager.shutdown_kernel(now=True)


ENDINGS = {
    "restart": lambda m: m.restart_kernel(now=False),
    "shutdown": lambda m: m.shutdown_kernel(now=False),
    "kill": _kill_pid,
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_ending_a_kernel_ten_times_leaves_nothing_behind(ending):
    manager = None
    try:
        for attempt in range(REPEATS):
            # A manager that shut its kernel down has destroyed its ZMQ context.
            if manager is None or not manager.is_alive():
                manager = KernelManager(kernel_name="python3")
                manager.start_kernel()
            client = _connect(manager)
            _, folder = _run(client, _START).split()
            members = family(manager.provisioner.pid)
            client.stop_channels()

            ENDINGS[ending](manager)

            left = [p for p in members if alive(p)]
            assert wait_gone(members, folder), f"{attempt}: {left} or {folder}"
    finally:
        if manager is not None and manager.is_alive():
            manager.shutdown_kernel(now=True)


# Restart the lab, and let the kernel be interrupted partway through.
_RESTART_LAB = """
lab.stop()
lab = labapp.start_lab()
lab.victim().open("http://bank.test/")
"""


def _interrupted(manager, client, delay):
    """Run _RESTART_LAB, interrupt the kernel after `delay` s, wait for it."""
    msg_id = client.execute(_RESTART_LAB)
    time.sleep(delay)
    manager.interrupt_kernel()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = client.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["status"]
    raise AssertionError("the interrupted cell never finished")


def test_interrupting_a_kernel_ten_times_leaves_one_attacker(kernel):
    manager, client, _, _ = kernel
    kernel_pid = manager.provisioner.pid
    statuses = []

    # The lab takes about a second to start: spread the interrupts over it.
    for attempt in range(REPEATS):
        statuses.append(_interrupted(manager, client, delay=attempt * 0.12))
        assert len(mitmdumps(kernel_pid)) <= 1, f"interrupt {attempt}"

        pid, folder = _run(client, _START).split()
        assert mitmdumps(kernel_pid) == [int(pid)], f"after interrupt {attempt}"

    assert "error" in statuses, f"no interrupt landed in a cell: {statuses}"
    members = family(kernel_pid)
    manager.shutdown_kernel(now=False)
    assert wait_gone(members, folder), f"{[p for p in members if alive(p)]}"
