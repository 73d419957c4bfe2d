"""The lab inside real Jupyter kernels: interrupt, restart, shutdown, kill."""

import pytest
from jupyter_client.manager import start_new_kernel

from .test_lab import _alive, _wait_gone

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

    reply = client.execute_interactive(code, output_hook=keep, timeout=60)
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

    assert _alive(pid)
    assert "ready" in _run(client, "print(labapp.setup_report(lab))")
    manager.shutdown_kernel(now=True)
    assert _wait_gone(pid, folder), f"mitmdump {pid} or {folder} survived"


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

    assert _wait_gone(pid, folder), f"mitmdump {pid} or {folder} survived"
