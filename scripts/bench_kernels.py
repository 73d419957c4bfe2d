"""The benchmark's figures that need real Jupyter kernels: the course, memory.

Every kernel here is started by this script through jupyter_client, and shut
down by it: a shutdown request first (so the lab's atexit stops its
mitmdump), then the kernel manager kills by PID whatever did not exit.
"""

import subprocess
import time
from pathlib import Path

import bench_proc
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# What the kernel imports for the lab; its mitmdump imports the rest.
KERNEL_IMPORTS = "import flask, urllib3, trustme, cryptography, ipywidgets"
MITMDUMP_IMPORTS = "import mitmproxy.tools.main, mitmproxy.tools.dump"
# Each dependency loaded in the process where the lab loads it: mitmproxy's
# in a child of the kernel, at the same time as the kernel's own. The child
# then exits at once, as the lab's mitmdump does, without tearing down.
_CHILD = MITMDUMP_IMPORTS + "; import os; os._exit(0)"
FLOOR_CELL = f"""import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", {_CHILD!r}])
{KERNEL_IMPORTS}
assert child.wait(timeout=60) == 0"""
KERNEL = "python3"
CELL_SECONDS = 180
READY_SECONDS = 90

# Where kernels write stderr (ipykernel warns there on every start); the
# benchmark points it at a log file of its own and quotes it on errors.
kernel_stderr = subprocess.DEVNULL


def course_notebooks():
    """The course in order: notebooks/0*.ipynb, not the exercise versions."""
    return sorted(NOTEBOOKS.glob("0*.ipynb"))


def run_notebook(notebook):
    """Execute `notebook` in a kernel of its own; return (seconds, error)."""
    client = NotebookClient(
        notebook,
        timeout=CELL_SECONDS,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    began = time.perf_counter()
    error = ""
    try:
        client.execute(stderr=kernel_stderr)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1]}"
    return time.perf_counter() - began, error


def one_cell_notebook(source=FLOOR_CELL):
    """A notebook of one cell; by default the floor's, which imports every
    dependency the lab loads, in the kernel and in a child, as the lab does."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook


class Kernel:
    """One kernel we started, with a blocking client; see `shutdown_all`."""

    def __init__(self):
        self.manager = KernelManager(kernel_name=KERNEL)
        self.manager.start_kernel(cwd=str(NOTEBOOKS), stderr=kernel_stderr)
        self.client = self.manager.client()
        self.client.start_channels()
        self.pid = None

    def wait_ready(self):
        """Wait for the kernel to answer; learn its PID from itself."""
        self.client.wait_for_ready(timeout=READY_SECONDS)
        self.pid = int(self.evaluate("import os", "os.getpid()"))

    def run(self, code):
        """Run `code`; return the error's last line, or "" if it succeeded."""
        reply = self.client.execute_interactive(
            code,
            timeout=CELL_SECONDS,
            output_hook=lambda message: None,
        )
        content = reply["content"]
        if content["status"] == "ok":
            return ""
        return f"{content.get('ename')}: {content.get('evalue')}"

    def send(self, code, expression):
        """Send `code` without waiting; `collect` reads `expression` after it."""
        return self.client.execute(
            code,
            silent=False,
            store_history=False,
            user_expressions={"value": expression},
        )

    def collect(self, msg_id):
        """The repr of the expression sent with `msg_id`, or raise its error."""
        deadline = time.monotonic() + CELL_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no reply from kernel {self.pid} in time")
            reply = self.client.get_shell_msg(timeout=left)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
        value = content["user_expressions"]["value"]
        if value["status"] != "ok":
            raise RuntimeError(f"{value.get('ename')}: {value.get('evalue')}")
        return value["data"]["text/plain"]

    def evaluate(self, code, expression):
        """Run `code`, then return the repr of `expression`."""
        return self.collect(self.send(code, expression))

    def mitmdumps(self):
        """The PIDs of the mitmdump processes this kernel started."""
        return bench_proc.children(self.pid, "mitmdump") if self.pid else []

    def request_shutdown(self):
        """Ask the kernel to exit cleanly (its atexit stops the lab)."""
        if self.manager.is_alive():
            self.client.shutdown()

    def finish(self):
        """Clean up after the kernel, killing it by PID if it is still up."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def shutdown_all(kernels, seconds=20):
    """Shut every kernel down, by PID if need be.

    Returns the PIDs of mitmdumps that outlived their kernel by 10 s; those
    are then stopped by PID here, but count as a failure of the lab.
    """
    labs = [pid for kernel in kernels for pid in kernel.mitmdumps()]
    for kernel in kernels:
        kernel.request_shutdown()
    bench_proc.wait_gone([k.pid for k in kernels if k.pid], seconds)
    for kernel in kernels:
        kernel.finish()
    leftovers = bench_proc.wait_gone(labs, 10)
    for pid in leftovers:
        bench_proc.kill(pid)
    return leftovers


def learner_memory(notebook_path):
    """Memory of one kernel that ran `notebook_path`'s code, and its mitmdump.

    Returns ({"kernel": (PSS, RSS), "mitmdump": (PSS, RSS)} in bytes, error).
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    kernel = Kernel()
    try:
        found, error = _measure_learner(kernel, notebook)
    finally:
        leftovers = shutdown_all([kernel])
    if leftovers and not error:
        error = f"mitmdump {leftovers} outlived its kernel"
    return found, error


def _measure_learner(kernel, notebook):
    """Run the notebook's code cells in `kernel`, then read its memory."""
    kernel.wait_ready()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            error = kernel.run(cell.source)
            if error:
                return {}, error
    time.sleep(1)  # let the last cell's garbage and threads settle
    proxies = kernel.mitmdumps()
    if len(proxies) != 1:
        return {}, f"expected one mitmdump, found {len(proxies)}"
    pids = {"kernel": kernel.pid, "mitmdump": proxies[0]}
    return {
        name: (bench_proc.pss_bytes(pid), bench_proc.rss_bytes(pid))
        for name, pid in pids.items()
    }, ""


_LAB_WITH_FIX = """
import labapp
from labapp.checks import inspect
from labapp.checks.examples import REDIRECT_FIXES

lab = labapp.start_lab()
lab.serve(REDIRECT_FIXES["before_request-301"]())
passed = inspect("redirect", lab).passed
"""


def many_labs(count, batch=5):
    """`count` kernels, each with a started lab checked on a redirect fix.

    Kernels start all at once; the labs start `batch` at a time so that
    mitmdump's own start-up limit is not what gets measured. Returns
    (total PSS bytes, passed count, notes on what went wrong, leftover PIDs).
    """
    kernels, errors = [], []
    try:
        kernels = [Kernel() for _ in range(count)]
        for number, kernel in enumerate(kernels):
            try:
                kernel.wait_ready()
            except RuntimeError as err:
                # Seen once with 30 kernels on a loaded host: say so, retry once.
                errors.append(f"a kernel did not start ({err}); replaced it once")
                shutdown_all([kernel])
                kernels[number] = Kernel()
                kernels[number].wait_ready()
        passed = 0
        for start in range(0, count, batch):
            group = kernels[start : start + batch]
            sent = [(k, k.send(_LAB_WITH_FIX, "passed")) for k in group]
            for kernel, msg_id in sent:
                try:
                    passed += kernel.collect(msg_id) == "True"
                except RuntimeError as err:
                    errors.append(f"kernel {kernel.pid}: {err}")
        time.sleep(1)
        total = 0
        for kernel in kernels:
            proxies = kernel.mitmdumps()
            total += bench_proc.pss_bytes(kernel.pid)
            total += sum(bench_proc.pss_bytes(pid) for pid in proxies)
            if len(proxies) != 1:
                errors.append(f"kernel {kernel.pid}: {len(proxies)} mitmdumps")
        return total, passed, errors, shutdown_all(kernels)
    except BaseException:
        shutdown_all(kernels)
        raise
