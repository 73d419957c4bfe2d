"""The stage checks: probe the learner's running site and say what is wrong.

`check(stage)` is what a notebook's check cell calls: it prints the verdict,
remembers the result in the learner's progress file, and fails the cell when
the stage is not done yet.
"""

from .. import progress
from ..lab import current_lab
from ..learner import explain
from . import cookies, hsts, redirect
from .verdict import CheckFailed, Finding, Verdict

STAGES = {"redirect": redirect, "hsts": hsts, "cookies": cookies}


def inspect(stage, lab):
    """Run the check for `stage` against `lab`'s running site; return a Verdict."""
    module = STAGES[stage]
    failures = lab.site.dispatcher.failures
    failures.clear()
    transport = lab.transport()
    try:
        verdict = module.evaluate(module.observe(transport, lab.app))
    finally:
        transport.close()
    if not failures:
        return verdict
    crash = Finding(
        "Your app answers every probe without raising an exception", False,
        explain(*failures[0]), mistake="app-raised",
        hint="Fix that error first; the other failures may follow from it.",
    )
    return Verdict(verdict.stage, [crash, *verdict.findings], verdict.notes)


def check(stage, lab=None):
    """Check `stage` on the lab, print the verdict, fail the cell if not passed."""
    lab = lab or current_lab()
    if stage not in STAGES:
        raise ValueError(
            f"There is no stage {stage!r}; the stages are {', '.join(STAGES)}."
        )
    verdict = inspect(stage, lab)
    try:
        progress.record(stage, verdict.passed)
    except OSError as err:
        note = f"Your progress could not be saved ({err}); the verdict stands."
        verdict = Verdict(verdict.stage, verdict.findings, [*verdict.notes, note])
    if not verdict.passed:
        raise CheckFailed(verdict)
    print(verdict)


__all__ = ["STAGES", "CheckFailed", "Finding", "Verdict", "check", "inspect"]
