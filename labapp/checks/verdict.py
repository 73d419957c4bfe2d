"""What a stage check found, and how it is told to the learner."""

from dataclasses import dataclass, field

from ..errors import LabError


@dataclass(frozen=True)
class Finding:
    """One criterion: passed or not, what was seen, and a hint when not."""

    criterion: str
    passed: bool
    detail: str = ""
    hint: str = ""
    mistake: str | None = None
    # A warning is reported but does not fail the stage.
    warning: bool = False


@dataclass(frozen=True)
class Verdict:
    """The findings of one stage check, and lessons worth printing."""

    stage: str
    findings: list
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        """Whether every criterion that is not a warning passed."""
        return all(f.passed or f.warning for f in self.findings)

    @property
    def mistakes(self):
        """The codes of the mistakes recognised, in order, once each."""
        codes = [f.mistake for f in self.findings if not f.passed and f.mistake]
        return list(dict.fromkeys(codes))

    def __str__(self):
        head = "PASSED" if self.passed else "NOT YET"
        lines = [f"{self.stage} check: {head}"]
        for finding in self.findings:
            lines.extend(_describe(finding))
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def _describe(finding):
    """A finding's lines: mark, criterion, what was seen, the hint."""
    if finding.passed:
        mark = "ok  "
    else:
        mark = "warn" if finding.warning else "FAIL"
    lines = [f"  [{mark}] {finding.criterion}"]
    if finding.detail and not finding.passed:
        lines.append(f"         seen: {finding.detail}")
    if finding.hint and not finding.passed:
        lines.append(f"         hint: {finding.hint}")
    return lines


class CheckFailed(LabError, AssertionError):
    """A stage check did not pass; the verdict is the whole message."""

    def __init__(self, verdict):
        super().__init__(str(verdict))
        self.verdict = verdict

    def _render_traceback_(self):
        # IPython shows this instead of a traceback: the learner's cell fails
        # (so nbval notices) with the verdict alone, not a wall of frames.
        return str(self.verdict).splitlines()
