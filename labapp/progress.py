"""What the learner has passed, kept in a small file of their own.

The file lives in the learner's home (or where LABAPP_PROGRESS points), so a
kernel restart or a new session keeps it, and each learner on a hub has one.
"""

import json
import os
import tempfile
import time
from pathlib import Path

STAGES = {
    "redirect": "04 Redirect to HTTPS",
    "hsts": "05 Strict-Transport-Security",
    "cookies": "06 Secure cookies",
}


def progress_path():
    """Where progress is kept."""
    override = os.environ.get("LABAPP_PROGRESS")
    if override:
        return Path(override)
    return Path.home() / ".labapp" / "progress.json"


def load():
    """Return ``{stage: {"passed": bool, "time": float}}``; empty if none yet."""
    try:
        return json.loads(progress_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        # A missing or damaged file is a fresh start, not an error.
        return {}


def record(stage, passed):
    """Remember the latest result of `stage`, written atomically."""
    results = load()
    results[stage] = {"passed": bool(passed), "time": time.time()}
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".progress-")
    with os.fdopen(handle, "w") as stream:
        json.dump(results, stream, indent=1)
    os.replace(temporary, path)


def summary(results=None):
    """The progress as lines of text, one per stage, in words."""
    results = load() if results is None else results
    lines = []
    for stage, title in STAGES.items():
        state = results.get(stage)
        if state is None:
            word = "not tried yet"
        else:
            word = "done" if state["passed"] else "not passed yet"
        lines.append(f"{title}: {word}")
    return "\n".join(lines)
