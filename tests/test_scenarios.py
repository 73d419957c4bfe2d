"""The attack replayed against every stage gives the grid of notebook 07."""

from labapp import create_bank
from labapp import scenarios as sc


def test_the_grid_matches_what_each_defence_stops(weak_lab):
    own = create_bank({"TESTING": True})
    weak_lab.serve(own)

    rows = sc.attack_grid(weak_lab)

    assert sc.as_expected(rows) == []
    assert [label for label, _ in rows] == list(sc.EXPECTED)
    assert weak_lab.app is own


def test_a_grid_that_differs_is_reported_cell_by_cell():
    rows = [("redirect + HSTS", [(j, frozenset({"cookie"})) for j in sc.JOURNEYS])]

    problems = sc.as_expected(rows)

    assert len(problems) == 3
    assert problems[1].startswith(f"redirect + HSTS, {sc.RETURNING}")


def test_the_stripping_journey_steals_both_from_the_weak_bank(weak_lab):
    outcome = sc.run_journey(weak_lab, sc.FIRST_VISIT)

    assert outcome.stolen == {"password", "cookie"}
    assert not outcome.page.secure
    assert "the attacker got cookie and password" in str(outcome)
