"""Settings for every test, notebooks included."""

import os
import shutil
import tempfile


def pytest_configure(config):
    """Keep the tests' progress out of the learner's own file."""
    config.progress_folder = tempfile.mkdtemp(prefix="labapp-test-progress-")
    os.environ["LABAPP_PROGRESS"] = os.path.join(
        config.progress_folder, "progress.json"
    )


def pytest_unconfigure(config):
    """Remove the tests' progress folder."""
    shutil.rmtree(config.progress_folder, ignore_errors=True)
