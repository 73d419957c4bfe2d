"""The README's first command: `./lab open` prints where notebook 00 opens."""

import os
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .processes import stop

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 90
ADDRESS = re.compile(r"http://(\S+?):(\d+)(/\S*)\?token=")


@pytest.mark.skipif(
    sys.prefix == sys.base_prefix,
    reason="./lab would set this Python up as the lab's; run the tests with ./lab test",
)
def test_lab_open_prints_an_address_that_opens_notebook_00(tmp_path):
    env = {
        **os.environ,
        # This environment is the lab's already: no set-up, no download.
        "LAB_VENV": sys.prefix,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    process = subprocess.Popen(
        [str(ROOT / "lab"), "open", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        found, output = _first_address(process)
    finally:
        stop(process, seconds=15)
        process.stdout.close()

    assert found, f"no address printed in {START_SECONDS} s:\n{output}"
    host, _, path = found.groups()
    assert host == "127.0.0.1"
    assert path == "/lab/tree/notebooks/00-start-here.ipynb"


def _first_address(process):
    """Read the server's output until it prints its address, or time runs out."""
    output = ""
    deadline = time.monotonic() + START_SECONDS
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline().decode(errors="replace")
            if not line:
                break
            output += line
            if found := ADDRESS.search(line):
                return found, output
    return None, output

