"""The attack, replayed: one victim's journey and what the attacker got.

Notebooks 04-07 run the same journeys against each stage of the bank, so the
learner sees which defence stops which theft.
"""

from dataclasses import dataclass

from .bank import PASSWORD, USER, create_bank
from .learner import flask_app
from .network import BANK
from .solutions import add_hsts, add_redirect, secure_cookies

FIRST_VISIT = "first visit, types bank.test"
RETURNING = "returning visitor, types bank.test"
BOOKMARK = "https:// bookmark, then an http:// link"
JOURNEYS = (FIRST_VISIT, RETURNING, BOOKMARK)
SHORT = {
    FIRST_VISIT: "first visit",
    RETURNING: "returning visitor",
    BOOKMARK: "bookmark + http link",
}

STAGES = {
    "weak bank": create_bank,
    "redirect": lambda: add_redirect(create_bank()),
    "redirect + Secure cookie": lambda: add_redirect(
        create_bank({"SESSION_COOKIE_SECURE": True})
    ),
    "redirect + HSTS": lambda: add_hsts(add_redirect(create_bank())),
    "redirect + HSTS + Secure cookie": secure_cookies,
}

# What the attacker gets, stage by stage, in the order of JOURNEYS.
_BOTH = frozenset({"password", "cookie"})
_COOKIE = frozenset({"cookie"})
_NOTHING = frozenset()
EXPECTED = {
    "weak bank": (_BOTH, _BOTH, _COOKIE),
    "redirect": (_BOTH, _BOTH, _COOKIE),
    "redirect + Secure cookie": (_BOTH, _BOTH, _NOTHING),
    "redirect + HSTS": (_BOTH, _NOTHING, _NOTHING),
    "redirect + HSTS + Secure cookie": (_BOTH, _NOTHING, _NOTHING),
}


@dataclass(frozen=True)
class Outcome:
    """What one journey gave the attacker, and what the victim last saw."""

    journey: str
    stolen: frozenset
    events: list
    page: object

    def __str__(self):
        got = " and ".join(sorted(self.stolen)) or "nothing it can use"
        return f"{self.journey}: the attacker got {got}."


def run_journey(lab, journey=FIRST_VISIT):
    """Alice logs in and clicks the http:// offers link, through the attacker."""
    if journey not in JOURNEYS:
        raise ValueError(f"Unknown journey {journey!r}; choose one of {JOURNEYS}.")
    lab.attacker.clear()
    alice = lab.victim()
    if journey == RETURNING:
        # An earlier visit, from a network the attacker is not on.
        alice.transport = lab.transport()
        alice.open(f"https://{BANK}/")
        alice.transport = lab.transport(lab.attacker.proxy)

    if journey == BOOKMARK:
        login = alice.open(f"https://{BANK}/login")
    else:
        login = alice.follow(alice.open(BANK), "Log in")
    account = alice.submit(login, {"username": USER, "password": PASSWORD})
    page = alice.follow(account, "See our offers")
    return Outcome(journey, _stolen(lab), lab.attacker.events(), page)


def attack_grid(lab):
    """Every journey against every stage; the learner's own app is restored."""
    own = lab.app
    rows = []
    try:
        for label, build in STAGES.items():
            lab.serve(build())
            cells = [(j, run_journey(lab, j).stolen) for j in JOURNEYS]
            rows.append((label, cells))
    finally:
        lab.serve(own)
    return rows


def as_expected(rows):
    """Compare a grid with EXPECTED; return the differences as sentences."""
    problems = []
    for label, cells in rows:
        for (journey, stolen), want in zip(cells, EXPECTED[label], strict=True):
            if stolen != want:
                problems.append(
                    f"{label}, {journey}: the attacker got {sorted(stolen)}, "
                    f"expected {sorted(want)}."
                )
    return problems


def grid_text(rows):
    """The grid as text: one line per stage, what was stolen per journey."""
    width = 22
    header = f"{'':32}| " + " | ".join(f"{SHORT[j]:{width}}" for j in JOURNEYS)
    lines = [header]
    for label, cells in rows:
        got = [", ".join(sorted(stolen)) or "nothing" for _, stolen in cells]
        lines.append(f"{label:32}| " + " | ".join(f"{g:{width}}" for g in got))
    key = [f"  {SHORT[j]}: {j}" for j in JOURNEYS]
    return "\n".join(line.rstrip() for line in [*lines, "", "Columns:", *key])


def _stolen(lab):
    """Which of Alice's secrets the attacker now holds."""
    stolen = set()
    if any(f.get("password") == PASSWORD for f in lab.attacker.passwords()):
        stolen.add("password")
    if _session_name(lab) in lab.attacker.cookies():
        stolen.add("cookie")
    return frozenset(stolen)


def _session_name(lab):
    """The name of the app's session cookie."""
    config = getattr(flask_app(lab.app), "config", {})
    return config.get("SESSION_COOKIE_NAME", "session")
