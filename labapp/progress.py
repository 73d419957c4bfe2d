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
    """Return ``{stage: {"passed": bool, "last": bool, "time": float}}``.

    `passed` says whether the stage ever passed, `last` how the latest
    attempt went. A missing or damaged file is a fresh start, not an error.
    """
    try:
        data = json.loads(progress_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        stage: state for stage, state in data.items()
        if stage in STAGES and isinstance(state, dict) and "passed" in state
    }


def record(stage, passed):
    """Remember an attempt at `stage`; a pass, once made, stays a pass."""
    results = load()
    earlier = results.get(stage, {}).get("passed", False)
    results[stage] = {
        "passed": bool(passed) or earlier,
        "last": bool(passed),
        "time": time.time(),
    }
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".progress-")
    with os.fdopen(handle, "w") as stream:
        json.dump(results, stream, indent=1)
    os.replace(temporary, path)


def reset():
    """Forget all progress, for a learner who wants to start over."""
    progress_path().unlink(missing_ok=True)


def passed(results=None):
    """Each stage's title and whether it ever passed, for the picture."""
    results = load() if results is None else results
    return {
        title: results.get(stage, {}).get("passed", False)
        for stage, title in STAGES.items()
    }


def summary(results=None):
    """The progress as lines of text, one per stage, in words."""
    results = load() if results is None else results
    lines = []
    for stage, title in STAGES.items():
        state = results.get(stage)
        if state is None:
            word = "not tried yet"
        elif state["passed"]:
            word = "done"
            if state.get("last") is False:
                word += " (your latest attempt did not pass)"
        else:
            word = "not passed yet"
        lines.append(f"{title}: {word}")
    return "\n".join(lines)
