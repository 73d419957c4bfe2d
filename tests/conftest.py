"""Shared fixtures: one real lab per test module, stopped afterwards."""

import pytest

from labapp import Lab, create_bank


@pytest.fixture(scope="module")
def lab():
    """A running lab, serving the weak bank; each test may swap the app."""
    lab = Lab().start()
    yield lab
    lab.stop()


@pytest.fixture
def weak_lab(lab):
    """The module's lab, reset to the weak bank with an empty capture."""
    lab.start(create_bank())
    lab.attacker.clear()
    return lab
