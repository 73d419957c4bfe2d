"""Settings for every test, notebooks included."""

import os
import tempfile


def pytest_configure(config):
    """Keep the tests' progress out of the learner's own file."""
    folder = tempfile.mkdtemp(prefix="labapp-test-progress-")
    os.environ["LABAPP_PROGRESS"] = os.path.join(folder, "progress.json")
