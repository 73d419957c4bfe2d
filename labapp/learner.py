"""Telling learners where their own code failed, without a wall of frames."""

import linecache
import os
import traceback

import flask
import werkzeug

# Frames from these folders are the machinery, not the learner's code.
_LIBRARIES = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (flask, werkzeug)
) + (os.path.dirname(__file__) + os.sep,)


def where(error):
    """Name the learner's frame an exception came from, with its source line."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if not f.filename.startswith(_LIBRARIES)]
    if not own:
        return ""
    frame = own[-1]
    line = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    place = f" in your function {frame.name}(), line {frame.lineno}"
    return f"{place}: {line}" if line else place


def explain(error, request):
    """One message: what the learner's app raised, where, and on which request."""
    return (
        f"Your app raised {type(error).__name__}: {error}{where(error)}\n"
        f"(while answering {request})."
    )

