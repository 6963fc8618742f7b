"""A small tree with hand-placed members and ledger entries whose figures are computed by hand
in the tests (docs/reports.md says how each figure counts).

示范省 P › 县 C › 支部 A / 支部 B. Day one is Monday 2 November 2026, day two the Tuesday
(Asia/Shanghai):

- a1 (A, registered): login + 5 reading points on day one; login on day two;
- a2 (A, registered): only the login point on day one (active, not learning);
- a3 (A): pre-listed, never registered;
- a4 (A, registered): never uses the platform (inactive);
- t (registered): in A until noon of day one, then transferred to B; 3 reading points in A in
  the morning, 2 in B in the afternoon;
- b1 (B): pre-listed on day one, registers at 10:00 on day two and reads 4 points;
- r (B, registered): reads 1 point at 08:00 on day one and is removed from B at 09:00;
- n (registered): joins A at 08:00 on day two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.time import BUSINESS_TZ
from xuexi.organizations.models import Membership, Organization
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import TEST_RULES, install

DAY_ONE = dt.date(2026, 11, 2)
DAY_TWO = dt.date(2026, 11, 3)
LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=BUSINESS_TZ)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BUSINESS_TZ)


@dataclass
class Story:
    ruleset: RuleSet
    orgs: dict[str, Organization]
    people: dict[str, Any]

    def earn(self, who: str, rule: str, points: int, when: dt.datetime, org: str | None) -> None:
        LedgerEntry.objects.create(
            member=self.people[who],
            rule=rule,
            points=points,
            day=when.astimezone(BUSINESS_TZ).date(),
            at=when,
            source_type="test",
            source_id=f"{who}-{rule}-{when.isoformat()}",
            ruleset=self.ruleset,
            organization=self.orgs[org] if org else None,
        )


def child(parent: Organization, name: str, kind: str, code: str) -> Organization:
    return Organization.objects.add_child(parent, {"name": name, "kind": kind, "code": code})


@pytest.fixture
def story(db: Any) -> Story:
    RuleSet.objects.all().delete()
    ruleset = install(TEST_RULES, dt.date(2020, 1, 1))
    province = Organization.objects.add_root({"name": "示范省", "kind": "province", "code": "R"})
    county = child(province, "县C", "county", "R-1")
    orgs = {
        "P": province,
        "C": county,
        "A": child(county, "支部A", "branch", "R-1-1"),
        "B": child(county, "支部B", "branch", "R-1-2"),
    }
    people: dict[str, Any] = {}
    registered = {"a1", "a2", "a4", "t", "r", "n"}
    for number, name in enumerate(["a1", "a2", "a3", "a4", "t", "b1", "r", "n"]):
        people[name] = UserFactory.create(
            phone=f"1390000{number:04d}",
            real_name=f"成员{name}",
            registered_at=LONG_AGO if name in registered else None,
        )
    people["n"].registered_at = at(DAY_TWO, 8)
    people["n"].save(update_fields=["registered_at"])

    def place(who: str, org: str, start: dt.datetime, end: dt.datetime | None = None) -> None:
        Membership.objects.create(
            user=people[who], organization=orgs[org], started_at=start, ended_at=end
        )

    for who in ("a1", "a2", "a3", "a4"):
        place(who, "A", LONG_AGO)
    place("t", "A", LONG_AGO, at(DAY_ONE, 12))
    place("t", "B", at(DAY_ONE, 12))
    place("b1", "B", LONG_AGO)
    place("r", "B", LONG_AGO, at(DAY_ONE, 9))
    place("n", "A", at(DAY_TWO, 8))

    s = Story(ruleset=ruleset, orgs=orgs, people=people)
    s.earn("a1", "login", 1, at(DAY_ONE, 7), "A")
    s.earn("a1", "chosen_reading", 5, at(DAY_ONE, 7, 30), "A")
    s.earn("a2", "login", 1, at(DAY_ONE, 20), "A")
    s.earn("t", "chosen_reading", 3, at(DAY_ONE, 10), "A")
    s.earn("t", "read_article", 2, at(DAY_ONE, 15), "B")
    s.earn("r", "read_article", 1, at(DAY_ONE, 8), "B")
    s.earn("b1", "chosen_reading", 4, at(DAY_TWO, 10, 30), "B")
    s.earn("a1", "login", 1, at(DAY_TWO, 7), "A")
    people["b1"].registered_at = at(DAY_TWO, 10)
    people["b1"].save(update_fields=["registered_at"])
    return s
