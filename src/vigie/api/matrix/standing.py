"""What Vigie knows about Matrix accounts: age (from account events), open case, restriction.

Matrix has no ages: the homeserver operator sends ``account`` events with the Matrix user id as
the account (docs/integrations/matrix.md). An account never described has an unknown age.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie.domain import Platform
from vigie.pseudonym import pseudonymise
from vigie.store.base import Store


@dataclass(frozen=True, slots=True)
class Standing:
    age: int | None
    restricted: bool
    open_case: bool

    def minor(self, adult_age: int) -> bool:
        return self.age is not None and self.age < adult_age

    def flagged(self, adult_age: int) -> bool:
        """Not a known minor, and under review or restricted: kept away from children."""
        return not self.minor(adult_age) and (self.open_case or self.restricted)


def standings(store: Store, platform: Platform, user_ids: list[str]) -> dict[str, Standing]:
    """Each user's standing on this platform, in one read."""
    pseudo = {u: pseudonymise(platform.pseudonym_secret, "account", u) for u in user_ids}
    with store.read() as unit:
        accounts = unit.get_accounts(platform.id, list(pseudo.values()))
        cases = {u: unit.open_case_for(platform.id, p) is not None for u, p in pseudo.items()}
    found = {}
    for user, p in pseudo.items():
        account = accounts.get(p)
        age = account.age if account else None
        restricted = bool(account and account.restricted)
        found[user] = Standing(age, restricted, cases[user])
    return found
