"""One learner's kernel for the classroom test: a lab of its own, run by stdin.

`python -m tests.classroom_learner N` starts a lab and answers, on stdout,
with its attacker's PID and its folder. Then, one command per line on stdin:

    go      pass the three stage checks, each with one of the right fixes
            (which one depends on N), then visit http://bank.test/?lab=N as
            the victim, through this lab's own attacker
    events  every event this lab's attacker captured so far
    stop    stop the lab and exit

Each answer is one line of JSON.
"""

import json
import sys

import labapp
from labapp.checks import inspect
from labapp.checks.examples import COOKIE_FIXES, HSTS_FIXES, REDIRECT_FIXES

FIXES = {"redirect": REDIRECT_FIXES, "hsts": HSTS_FIXES, "cookies": COOKIE_FIXES}


def answer(**fields):
    """Write one line of JSON and flush it, so the test reads it at once."""
    print(json.dumps(fields), flush=True)


def go(lab, number):
    """Pass every check with a right fix, then be the victim once."""
    passed = {}
    for stage, fixes in FIXES.items():
        name = sorted(fixes)[number % len(fixes)]
        lab.serve(fixes[name]())
        passed[stage] = (name, inspect(stage, lab).passed)

    lab.start()  # back to the weak bank, whose http:// page the attacker reads
    page = lab.victim().open(f"http://{labapp.BANK}/?lab={number}")
    return {"passed": passed, "address": page.address_bar}


def main(number):
    lab = labapp.start_lab()
    answer(pid=lab.attacker._process.pid, folder=lab.folder)
    for line in sys.stdin:
        command = line.strip()
        if command == "go":
            answer(**go(lab, number))
        elif command == "events":
            events = [{"kind": e.kind, **e.data} for e in lab.attacker.events()]
            answer(events=events)
        elif command == "stop":
            lab.stop()
            answer(stopped=True)
            return


if __name__ == "__main__":
    main(int(sys.argv[1]))
