"""Build the environment Binder builds from `binder/`, then run the course in it.

repo2docker (`jupyter-repo2docker --no-build --debug` prints its Dockerfile)
copies the repository into the home of a non-root user and owns it to them,
then, as that user and from the repository's root, runs
`pip install --no-cache-dir -r binder/requirements.txt` and
`./binder/postBuild`. This test does the same, with a fresh virtual
environment where repo2docker has its conda one, and then runs every notebook
as that user. It takes a minute or two, most of it pip.
"""

import os
import re
import shutil
import time
import tomllib
from pathlib import Path

import pytest

from .users import SYSTEM_PATH, local_user, why_no_users

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

# Not part of what Binder would clone: local environments, caches, builds.
NOT_COPIED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache",
              ".ipynb_checkpoints", "build"}  # fmt: skip

pytestmark = pytest.mark.skipif(
    why_no_users() is not None, reason=f"{why_no_users()}; Binder runs as one"
)


def runtime_version():
    """The Python version binder/runtime.txt asks for, such as "3.11"."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert match, f"binder/runtime.txt should read python-X.Y, not {text!r}"
    return match.group(1)


def test_binder_asks_for_a_python_the_package_supports():
    # Without runtime.txt repo2docker builds Python 3.10, older than we need.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = project["requires-python"].removeprefix(">=")

    wanted = tuple(map(int, runtime_version().split(".")))
    assert wanted >= tuple(map(int, needed.split(".")))
    assert (BINDER / "requirements.txt").exists()
    assert os.access(BINDER / "postBuild", os.X_OK)


def copy_repository(target, owner):
    """Copy the working tree as repo2docker does, owned by `owner`."""

    def ignore(folder, names):
        venvs = {n for n in names if (Path(folder) / n / "pyvenv.cfg").exists()}
        return venvs | {n for n in names if n in NOT_COPIED or n.endswith(".egg-info")}

    shutil.copytree(ROOT, target, ignore=ignore, dirs_exist_ok=True, symlinks=True)
    for folder, dirs, files in os.walk(target):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, owner.uid, owner.gid)


def test_the_course_runs_in_the_environment_binder_builds():
    with local_user() as learner:
        python = learner.python(prefer=runtime_version())
        if python is None:
            pytest.skip(f"no Python {runtime_version()} that a non-root user can run")
        repo = learner.home
        copy_repository(repo, learner)
        prefix = learner.home.parent / "env"
        prefix.mkdir()
        os.chown(prefix, learner.uid, learner.gid)
        env = learner.env(path=f"{prefix}/bin:{SYSTEM_PATH}")
        notebooks = [f"notebooks/{name}" for name in NOTEBOOKS]
        pip, jupyter = f"{prefix}/bin/pip", f"{prefix}/bin/jupyter"
        requirements = "binder/requirements.txt"

        steps = [
            ("venv", [python, "-m", "venv", str(prefix)], 60),
            ("pip", [pip, "install", "--no-cache-dir", "-r", requirements], 240),
            ("postBuild", ["./binder/postBuild"], 120),
            ("course", [jupyter, "execute", "--timeout=120", *notebooks], 240),
        ]
        timings = {}
        for name, command, limit in steps:
            started = time.monotonic()
            done = learner.run(command, env=env, cwd=repo, timeout=limit)
            timings[name] = round(time.monotonic() - started, 1)
            assert done.returncode == 0, (
                f"{name} failed as {learner.name}:\n{done.stdout[-3000:]}\n"
                f"{done.stderr[-3000:]}"
            )
        print(f"Binder build and course, seconds per step: {timings}")

        # The checks of 04-06 passed, and wrote to the learner's own home.
        progress = (learner.home / ".labapp" / "progress.json").read_text()
        assert progress.count('"passed": true') == 3, progress
        assert learner.wait_for_no_processes() == []
        assert owned_lab_folders(learner.uid) == []


def owned_lab_folders(uid):
    """The lab folders in /tmp that belong to `uid` (others come and go)."""
    owned = []
    for folder in Path("/tmp").glob("labapp-*"):
        try:
            if folder.stat().st_uid == uid:
                owned.append(folder)
        except FileNotFoundError:
            continue
    return owned
