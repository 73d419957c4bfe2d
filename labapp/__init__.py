"""The HTTPS lock-in lab: a weak bank, a real attacker and a victim browser.

Importing the package starts nothing and prints nothing; `start_lab()` does
the work. Names are loaded on first use, so `import labapp` stays cheap: the
attacker's addon imports `labapp.strip` in every mitmdump, and Flask, trustme
and the checks have no business there.
"""

import importlib

# Each public name, and the module it lives in.
_EXPORTS = {
    "BANK": "network",
    "BrowserError": "errors",
    "Lab": "lab",
    "LabError": "errors",
    "LabStartError": "errors",
    "LearnerCodeError": "errors",
    "NotRunningError": "errors",
    "check": "checks",
    "create_bank": "bank",
    "current_lab": "lab",
    "setup_report": "selfcheck",
    "start_lab": "lab",
}
# Modules notebooks reach as attributes, such as `labapp.progress.summary()`.
_MODULES = {"progress", "report", "scenarios", "solutions", "views"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    """Import a public name's module on first use (PEP 562)."""
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'labapp' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted([*__all__, *_MODULES])
