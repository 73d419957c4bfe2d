"""The lab's exceptions: one root, so a notebook can catch them all."""


class LabError(Exception):
    """Something in the lab went wrong; the message says what to do."""


class LabStartError(LabError, RuntimeError):
    """A part of the lab (site, attacker) could not be started."""


class NotRunningError(LabError, RuntimeError):
    """The lab was used before `start()` or after `stop()`."""


class LearnerCodeError(LabError, ValueError):
    """The learner's fix could not be used; the message points at their code."""


class BrowserError(LabError, RuntimeError):
    """The victim browser could not load a page, as a real browser would fail."""


class OutsideLabError(BrowserError, ValueError):
    """A URL outside the lab: nothing is ever sent there."""
