"""The HTTPS lock-in lab: a weak bank, a real attacker and a victim browser.

Importing the package starts nothing and prints nothing; `start_lab()` does
the work.
"""

from . import progress
from .bank import create_bank
from .checks import check
from .errors import (
    BrowserError,
    LabError,
    LabStartError,
    LearnerCodeError,
    NotRunningError,
)
from .lab import Lab, current_lab, start_lab
from .network import BANK
from .selfcheck import setup_report

__all__ = [
    "BANK",
    "BrowserError",
    "Lab",
    "LabError",
    "LabStartError",
    "LearnerCodeError",
    "NotRunningError",
    "check",
    "create_bank",
    "current_lab",
    "progress",
    "setup_report",
    "start_lab",
]
