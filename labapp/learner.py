"""Telling learners where their own code failed, without a wall of frames."""

import linecache
import os
import sysconfig
import traceback

import flask

# Frames from these folders are the machinery (the standard library, installed
# packages, the lab itself), not the learner's code.
_LIBRARIES = tuple(
    os.path.realpath(folder) + os.sep
    for folder in {
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        os.path.dirname(os.path.dirname(flask.__file__)),
        os.path.dirname(__file__),
    }
)


def flask_app(app, depth=5):
    """The Flask app inside `app`, looking through wrappers such as ProxyFix."""
    for _ in range(depth):
        if isinstance(app, flask.Flask):
            return app
        app = getattr(app, "app", None)
    return None


def hook_names(app, kind):
    """The names of an app's `before_request` or `after_request` functions."""
    found = flask_app(app)
    if found is None:
        return []
    hooks = getattr(found, f"{kind}_funcs").get(None, [])
    return [getattr(hook, "__name__", repr(hook)) for hook in hooks]


def where(error):
    """Name the learner's frame an exception came from, with its source line."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if not _is_library(f.filename)]
    if not own:
        return ""
    frame = own[-1]
    line = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    place = f" in your function {frame.name}(), line {frame.lineno}"
    return f"{place}: {line}" if line else place


def explain(error, request):
    """One message: what the learner's app raised, where, and on which request."""
    message = (
        f"Your app raised {type(error).__name__}: {error}{where(error)}\n"
        f"(while answering {request})."
    )
    if isinstance(error, TypeError) and "'NoneType' object is not callable" in str(
        error
    ):
        # Flask calls the response an after_request function returned.
        message += (
            "\nAn @app.after_request function returned None: it must end "
            "with `return response`."
        )
    return message


def _is_library(filename):
    """Whether a frame's file belongs to the machinery, not to the learner."""
    return os.path.realpath(filename).startswith(_LIBRARIES)
