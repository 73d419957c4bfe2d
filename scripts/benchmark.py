"""Measure the lab's speed and memory against their floors, in one run.

Usage:
    .venv/bin/python scripts/benchmark.py            # full run, ~3-4 min on 2 cores
    .venv/bin/python scripts/benchmark.py --quick    # shorter, ~1-2 min

Every figure is printed as one line (name | measured | floor or target |
ratio | result), with notes on what it includes below it. The exit status is
1 if any target is missed. Each figure is a ratio or a bound measured in this
run on this machine; nothing here is a timed unit test.

1. Lab start to ready. Wall time, seen from this process, from spawning a
   fresh `python -c "import labapp; labapp.Lab().start()"` to reading the line
   it prints once `start()` returns: interpreter start, `import labapp`, the
   lab's CA and certificate, both servers, the modules the notebooks use
   next (loaded while mitmdump boots), and its mitmdump (its own process,
   its imports, its addon, its fresh confdir and CA) up to the ready file the
   addon writes (polled every 20 ms by the lab). Floor: spawning a bare
   `mitmdump --quiet --listen-host 127.0.0.1 --listen-port 0` with a fresh
   confdir, until it accepts a TCP connection on its port. The port comes
   from scripts/bench_ready.py, a small addon that writes it in the
   `running` hook (polled every 5 ms); reading /proc/net/tcp instead costs
   milliseconds per poll on a host with many sockets, and would slow the
   very start it measures. One warm-up of each is discarded, then lab and
   bare alternate; medians. Target: ratio <= 1.3.
2. Check latency. In this process, with one running lab: the median of
   `inspect(stage, lab)` per stage, on the weak bank and on a right fix from
   `labapp.checks.examples`, after one untimed warm-up. Floor: one GET of
   https://bank.test/ on a new lab Transport (TCP and TLS handshake
   included), the way every check opens its own. Target: < 250 ms.
3. The course, headless. notebooks/00..07 each executed by nbclient in a
   kernel of its own, one after the other: kernel start, every cell, kernel
   shutdown (which stops that kernel's lab). Floor: as many kernels, each
   importing only the lab's dependencies, each in the process where the lab
   loads it: `import flask, urllib3, trustme, cryptography, ipywidgets` in
   the kernel, while a child of it runs `import mitmproxy.tools.main,
   mitmproxy.tools.dump` (what the lab's mitmdump loads), then waits for the
   child. Target: ratio <= 1.5. Shown beside it, for information: the course
   against kernels that import only the kernel's half and start no child,
   and as many kernels that only run `import labapp; lab =
   labapp.start_lab()`, the part of the course's time that is starting and
   stopping a lab in every kernel.
4. Memory. One learner: a kernel that ran every code cell of notebook 02,
   plus its mitmdump, summed PSS (/proc/<pid>/smaps_rollup); target < 160 MB.
   Many learners: 30 kernels (5 with --quick) at once, each with a started
   lab serving a redirect fix that passes `inspect("redirect", ...)`; their
   kernels' and mitmdumps' total PSS, and per lab (same 160 MB target). All
   are shut down afterwards and checked gone, by PID.
5. Idle CPU. A lab started in a child process settles 2 s, then the child's
   and its mitmdump's utime + stime (/proc/<pid>/stat) are read over 10 s
   (5 s with --quick). Target: < 1 % of one core.

--quick: 3 start-up runs of each instead of 9, 5 checks instead of 15 per
case, 5 labs instead of 30, 5 s of idle sampling instead of 10, and the
course once instead of three times (median of the three totals).

Last, every lab folder the run made (TMPDIR points into the benchmark's own
temporary folder, children included) must be gone; target 0 left.

Linux only (/proc). Everything binds 127.0.0.1 on ports the OS picks.
"""

import json
import os
import queue
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import bench_kernels
import bench_proc

from labapp.errors import LabError

MITMDUMP = Path(sys.executable).with_name("mitmdump")
READY_ADDON = Path(__file__).with_name("bench_ready.py")
LAB_ONLY_CELL = "import labapp; lab = labapp.start_lab()"
READY_SECONDS = 60
MB = 1e6

# Runs in a fresh interpreter: start a lab, say when it is ready and how long
# its parts took, then keep it until stdin closes. The parts are timed by
# wrapping labapp's own functions in this child; labapp itself is unchanged.
_LAB_CHILD = r"""
import json, sys, time
began = time.perf_counter()
import labapp
import labapp.attacker
imported = time.perf_counter()
parts = {}

def timed(name, func):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0) + time.perf_counter() - t
    return wrapper

# Flask, Werkzeug and trustme load inside start(), while mitmdump boots, so
# the parts after the spawn overlap the proxy's own start.
Attacker = labapp.attacker.Attacker
Attacker.spawn = timed("spawn mitmdump", Attacker.spawn)
Attacker.wait_ready = timed("wait for the ready file", Attacker.wait_ready)
lab = labapp.Lab()
lab._serve = timed("serve (tries the app)", lab._serve)
lab.start()
started = time.perf_counter()
print(json.dumps({"import labapp": imported - began,
                  "Lab().start()": started - imported, **parts}), flush=True)
sys.stdin.read()
lab.stop()
"""


@dataclass
class Figure:
    """One printed line: what was measured, against what, and the verdict."""

    name: str
    measured: str
    against: str
    ratio: str = "-"
    passed: bool | None = None  # None: shown for information only
    notes: tuple = ()

    def line(self):
        result = {True: "PASS", False: "FAIL", None: "info"}[self.passed]
        return (
            f"{self.name} | {self.measured} | {self.against} | {self.ratio} | {result}"
        )


def report(figure):
    """Print a figure as soon as it is known, with its notes indented."""
    print(figure.line(), flush=True)
    for note in figure.notes:
        print(f"    {note}", flush=True)
    return figure


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


# --- 1. Start-up -------------------------------------------------------------


class LabChild:
    """A lab started in a fresh interpreter; `stop` closes its stdin."""

    def __init__(self):
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAB_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self.parts = json.loads(self._ready_line())
            self.seconds = time.perf_counter() - began
            self.cpu = (
                bench_proc.cpu_seconds(self.process.pid),
                bench_proc.cpu_seconds(self.mitmdump()),
            )
        except BaseException:
            bench_proc.stop(self.process)
            raise

    def _ready_line(self):
        ready, _, _ = select.select([self.process.stdout], [], [], READY_SECONDS)
        if not ready:
            raise RuntimeError(f"The lab child was not ready in {READY_SECONDS} s.")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"The lab child exited ({self.process.wait(5)}).")
        return line

    def mitmdump(self):
        found = bench_proc.children(self.process.pid, "mitmdump")
        if len(found) != 1:
            raise RuntimeError(f"Expected one mitmdump, found {found}.")
        return found[0]

    def stop(self):
        """Let the child stop its lab, then make sure it is gone."""
        proxies = bench_proc.children(self.process.pid, "mitmdump")
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bench_proc.stop(self.process)
        return bench_proc.wait_gone(proxies, 5)


def bare_mitmdump(folder):
    """Seconds from spawning a bare mitmdump until it accepts a connection,
    and the CPU seconds it had used by then."""
    confdir = tempfile.mkdtemp(prefix="confdir-", dir=folder)
    ready = os.path.join(confdir, "ready")
    with open(os.path.join(confdir, "mitmdump.log"), "wb") as log:
        began = time.perf_counter()
        process = subprocess.Popen(
            [
                str(MITMDUMP),
                "--quiet",
                "--listen-host",
                "127.0.0.1",
                "--listen-port",
                "0",
                "--set",
                f"confdir={confdir}",
                "-s",
                str(READY_ADDON),
                "--set",
                f"bench_ready={ready}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            port = int(bench_proc.wait_for_file(process, ready, READY_SECONDS))
            if not bench_proc.accepts(port):
                raise RuntimeError(f"mitmdump said {port} but does not accept there.")
            return time.perf_counter() - began, bench_proc.cpu_seconds(process.pid)
        finally:
            bench_proc.stop(process)


def lab_start(runs, folder):
    """Figure 1: lab start to ready against a bare mitmdump start."""
    LabChild().stop()  # warm-up: page cache, .pyc files
    bare_mitmdump(folder)
    labs, bares, parts, lab_cpu, bare_cpu = [], [], [], [], []
    for _ in range(runs):
        child = LabChild()
        child.stop()
        labs.append(child.seconds)
        parts.append(child.parts)
        lab_cpu.append(child.cpu)
        seconds, cpu = bare_mitmdump(folder)
        bares.append(seconds)
        bare_cpu.append(cpu)

    lab, bare = statistics.median(labs), statistics.median(bares)
    breakdown = ", ".join(
        f"{name} {ms(statistics.median(p[name] for p in parts))}" for name in parts[0]
    )
    own, proxy = (statistics.median(c[i] for c in lab_cpu) for i in (0, 1))
    total_cpu = statistics.median(sum(c) for c in lab_cpu)
    floor_cpu = statistics.median(bare_cpu)
    return report(
        Figure(
            f"lab start to ready (median of {runs})",
            ms(lab),
            f"floor {ms(bare)} bare mitmdump; target ratio <= 1.30",
            f"{lab / bare:.2f}x",
            lab / bare <= 1.3,
            (
                f"lab runs: {', '.join(ms(s) for s in labs)} (min {ms(min(labs))})",
                f"bare runs: {', '.join(ms(s) for s in bares)} (min {ms(min(bares))})",
                f"inside the lab child (medians): {breakdown}",
                (
                    f"CPU used by then (medians, steadier on a busy machine): lab "
                    f"{ms(total_cpu)} (its process {ms(own)} + its mitmdump "
                    f"{ms(proxy)}), bare {ms(floor_cpu)}: {total_cpu / floor_cpu:.2f}x"
                ),
            ),
        )
    )


# --- 2. Check latency --------------------------------------------------------


def check_latency(runs):
    """Figure 2: each stage's check on the weak bank and on a right fix."""
    import labapp
    from labapp.checks import inspect
    from labapp.checks.examples import COOKIE_FIXES, HSTS_FIXES, REDIRECT_FIXES

    fixes = {"redirect": REDIRECT_FIXES, "hsts": HSTS_FIXES, "cookies": COOKIE_FIXES}
    lab = labapp.Lab().start()
    figures = []
    try:
        floor = statistics.median(_timed(lambda: _one_get(lab), runs))
        figures.append(
            report(
                Figure(
                    f"floor: one HTTPS GET on a new Transport (median of {runs})",
                    ms(floor),
                    "-",
                )
            )
        )
        for stage, catalogue in fixes.items():
            name, make_fix = next(iter(catalogue.items()))
            for label, app, should_pass in (
                ("weak bank", labapp.create_bank(), False),
                (f"fix {name}", make_fix(), True),
            ):
                lab.serve(app)
                verdict = inspect(stage, lab)  # warm-up, and a sanity check
                # The bank's log of requests (at most 500) is this lab's own.
                lab.site.dispatcher.seen.clear()
                inspect(stage, lab)
                requests = len(lab.site.dispatcher.seen)
                times = _timed(lambda stage=stage: inspect(stage, lab), runs)
                median = statistics.median(times)
                right = verdict.passed == should_pass
                figures.append(
                    report(
                        Figure(
                            f"check {stage}, {label} (median of {runs})",
                            ms(median),
                            f"target < 250 ms; floor {ms(floor)}",
                            f"{median / floor:.1f}x floor",
                            median < 0.25 and right,
                            (
                                f"{requests} requests to the bank; verdict passed="
                                f"{verdict.passed}" + ("" if right else " (WRONG)"),
                            ),
                        )
                    )
                )
    finally:
        lab.stop()
    return figures


def _one_get(lab):
    transport = lab.transport()
    try:
        transport.send("GET", "https://bank.test/")
    finally:
        transport.close()


def _timed(func, runs):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return times


# --- 3. The course -----------------------------------------------------------


def course(rounds):
    """Figure 3: notebooks 00..07, a kernel each, against import-only kernels.

    Each course notebook is followed by one kernel of each floor and one
    kernel that only starts a lab, so that whatever else the machine does
    falls on all alike; one floor kernel runs first, untimed, to warm the
    disk cache.
    """
    import nbformat

    notebooks = [
        (path.name[:2], nbformat.read(path, as_version=4))
        for path in bench_kernels.course_notebooks()
    ]
    others = {
        "floor": bench_kernels.one_cell_notebook(),
        "kernel imports": bench_kernels.one_cell_notebook(
            bench_kernels.KERNEL_IMPORTS
        ),
        "lab only": bench_kernels.one_cell_notebook(LAB_ONLY_CELL),
    }
    bench_kernels.run_notebook(others["floor"])
    each, errors = {name: [] for name, _ in notebooks}, []
    rounds_seen = {name: [] for name in ("course", *others)}
    for _ in range(rounds):
        spent = dict.fromkeys(rounds_seen, 0.0)
        for name, notebook in notebooks:
            seconds, error = bench_kernels.run_notebook(notebook)
            spent["course"] += seconds
            each[name].append(seconds)
            if error:
                errors.append(f"{name}: {error}")
            for other, one_cell in others.items():
                seconds, error = bench_kernels.run_notebook(one_cell)
                spent[other] += seconds
                if error:
                    errors.append(f"{other} kernel: {error}")
        for name, seconds in spent.items():
            rounds_seen[name].append(seconds)

    median = {name: statistics.median(s) for name, s in rounds_seen.items()}
    total, floor = median["course"], median["floor"]
    count = len(notebooks)
    per = ", ".join(f"{n} {statistics.median(s):.1f} s" for n, s in each.items())
    return [
        report(
            Figure(
                f"course 00..07 headless, {count} kernels (median of {rounds})",
                f"{total:.1f} s",
                f"floor {floor:.1f} s import-only kernels; target ratio <= 1.50",
                f"{total / floor:.2f}x",
                total / floor <= 1.5 and not errors,
                (
                    f"per notebook (median): {per}",
                    f"floor kernel: {floor / count:.2f} s each on average; one "
                    f"cell: {bench_kernels.FLOOR_CELL!r}",
                    *(f"ERROR {e}" for e in errors),
                ),
            )
        ),
        report(
            Figure(
                f"course against kernels that import only what the kernel "
                f"imports (median of {rounds})",
                f"{total:.1f} s",
                f"{median['kernel imports']:.1f} s without mitmproxy's child",
                f"{total / median['kernel imports']:.2f}x",
                None,
                (
                    f"one cell: {bench_kernels.KERNEL_IMPORTS!r}; the lab's "
                    "kernels do not import mitmproxy, their mitmdump does",
                ),
            )
        ),
        report(
            Figure(
                f"{count} kernels that only start a lab (median of {rounds})",
                f"{median['lab only']:.1f} s",
                f"floor {floor:.1f} s import-only kernels",
                f"{median['lab only'] / floor:.2f}x",
                None,
                (
                    f"one cell: {LAB_ONLY_CELL!r}; "
                    f"{median['lab only'] / count:.2f} s per kernel",
                    f"the notebooks' content adds {total - median['lab only']:.1f} "
                    "s to this",
                ),
            )
        ),
    ]


# --- 4. Memory ---------------------------------------------------------------


def memory(labs):
    """Figure 4: one learner on notebook 02, then `labs` learners at once."""
    path = bench_kernels.NOTEBOOKS / "02-ssl-stripping.ipynb"
    found, error = bench_kernels.learner_memory(path)
    one = sum(pss for pss, _ in found.values())
    parts = ", ".join(
        f"{name} {pss / MB:.0f} MB (RSS {rss / MB:.0f} MB)"
        for name, (pss, rss) in found.items()
    )
    figures = [
        report(
            Figure(
                "memory, one learner: notebook 02 kernel + its mitmdump (PSS)",
                f"{one / MB:.0f} MB",
                "target < 160 MB",
                f"{one / (160 * MB):.2f}x target",
                one < 160 * MB and not error,
                (f"ERROR {error}",) if error else (parts,),
            )
        )
    ]

    total, passed, problems, leftovers = bench_kernels.many_labs(labs)
    per_lab = total / labs
    figures.append(
        report(
            Figure(
                f"memory, {labs} kernels each with a started lab (PSS)",
                f"{total / MB:.0f} MB total, {per_lab / MB:.0f} MB per lab",
                "target < 160 MB per lab",
                f"{per_lab / (160 * MB):.2f}x target",
                per_lab < 160 * MB,
                tuple(f"NOTE {p}" for p in problems),
            )
        )
    )
    figures.append(
        report(
            Figure(
                f"{labs} labs pass inspect('redirect') on a fix, then all shut down",
                f"{passed}/{labs} passed, {len(leftovers)} processes left",
                f"target {labs}/{labs}, 0 left",
                "-",
                passed == labs and not leftovers,
                tuple(f"left alive: PID {pid}" for pid in leftovers),
            )
        )
    )
    return figures


# --- 5. Idle CPU -------------------------------------------------------------


def idle_cpu(seconds):
    """Figure 5: CPU used by a started, untouched lab and its mitmdump."""
    child = LabChild()
    try:
        proxy = child.mitmdump()
        time.sleep(2)
        pids = (child.process.pid, proxy)
        before = [bench_proc.cpu_seconds(pid) for pid in pids]
        began = time.monotonic()
        time.sleep(seconds)
        after = [bench_proc.cpu_seconds(pid) for pid in pids]
        elapsed = time.monotonic() - began
    finally:
        leftovers = child.stop()
    used = [b - a for a, b in zip(before, after)]
    percent = 100 * sum(used) / elapsed
    return report(
        Figure(
            f"idle CPU of a started lab over {seconds} s",
            f"{percent:.2f} % of one core",
            "target < 1 %",
            f"{percent:.2f}x target",
            percent < 1 and not leftovers,
            (
                (
                    f"lab process {used[0]:.2f} s, mitmdump {used[1]:.2f} s of CPU "
                    f"(resolution {1 / bench_proc.CLOCK_TICKS:.2f} s each)"
                ),
            ),
        )
    )


def _measured(name, measure):
    """Run one figure's measurement; a crash is a failed line, not the end."""
    try:
        found = measure()
    except (
        RuntimeError,
        OSError,
        subprocess.SubprocessError,
        queue.Empty,
        LabError,
    ) as err:
        return [
            report(
                Figure(
                    name,
                    "could not be measured",
                    "-",
                    "-",
                    False,
                    (f"{type(err).__name__}: {err}",),
                )
            )
        ]
    return found if isinstance(found, list) else [found]


def _leftover_folders(labs_tmp):
    """The lab folders still there once every lab above has stopped."""
    left = sorted(name for name in os.listdir(labs_tmp) if name.startswith("labapp-"))
    return report(
        Figure(
            "lab folders left behind after every lab stopped",
            str(len(left)),
            "target 0",
            "-",
            not left,
            tuple(left[:5]),
        )
    )


def _load():
    """The 1-minute load average: other work on the machine skews wall times."""
    return f"{os.getloadavg()[0]:.1f}"


def _print_tail(log, lines=20):
    """Show what the kernels wrote to stderr, minus ipykernel's TCP warning."""
    try:
        lines_read = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        print(f"kernels' stderr: {log} is gone (deleted from outside the run?)")
        return
    text = [x for x in lines_read if "running over TCP without encryption" not in x]
    if text:
        print("kernels' stderr, last lines:", *text[-lines:], sep="\n    ")


# --- Main ----------------------------------------------------------------------


def main(quick):
    runs, checks, labs, idle, rounds = (3, 5, 5, 5, 1) if quick else (9, 15, 30, 10, 3)
    import mitmproxy.version

    print(
        f"HTTPS lock-in lab benchmark ({'quick' if quick else 'full'} run): "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"mitmproxy {mitmproxy.version.VERSION}, load average {_load()}",
        flush=True,
    )
    print("figure | measured | floor / target | ratio | result", flush=True)
    began = time.monotonic()
    # Not "labapp-*": a clean-up of stray lab folders in /tmp must miss it.
    with tempfile.TemporaryDirectory(
        prefix="bench-httpslab-", ignore_cleanup_errors=True
    ) as folder:
        # Checks in kernels record progress: keep the learner's own file out of it.
        os.environ["LABAPP_PROGRESS"] = os.path.join(folder, "progress.json")
        # Every lab folder, ours or our children's, lands here, to be counted.
        labs_tmp = os.path.join(folder, "tmp")
        os.mkdir(labs_tmp)
        os.environ["TMPDIR"] = tempfile.tempdir = labs_tmp
        log = Path(folder, "kernels.log")
        with open(log, "ab") as stderr:
            bench_kernels.kernel_stderr = stderr
            figures = []
            for name, measure in (
                ("lab start", lambda: lab_start(runs, folder)),
                ("check latency", lambda: check_latency(checks)),
                ("idle CPU", lambda: idle_cpu(idle)),
                ("memory", lambda: memory(labs)),
                ("course", lambda: course(rounds)),
            ):
                figures += _measured(name, measure)
        figures.append(_leftover_folders(labs_tmp))
        if any(f.passed is False for f in figures):
            _print_tail(log)

    judged = [f for f in figures if f.passed is not None]
    failed = [f for f in judged if not f.passed]
    print(
        f"{len(judged) - len(failed)} of {len(judged)} targets met; "
        f"the run took {time.monotonic() - began:.0f} s; load average {_load()}.",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv[1:]))
