"""The unit registry as a pure, in-memory structure: resolve names, expand groups, climb parents.

No database here: the store builds a :class:`Registry` from its tables, the validator from YAML.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from kttt_workflow.domain.text import name_key


@dataclass(frozen=True)
class ContactInfo:
    """The monitoring body's contact, as the sign-off of a digest shows it."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def as_json(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (("name", self.name), ("phone", self.phone), ("email", self.email))
            if v
        }


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    level: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str | None = None
    note: str | None = None
    contact: ContactInfo | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class GroupInfo:
    code: str
    name: str
    members: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    note: str | None = None


@dataclass
class Registry:
    """Units, groups and levels, with lookups by code, name and alias."""

    levels: dict[str, str] = field(default_factory=dict)  # code -> name, in order
    units: dict[str, UnitInfo] = field(default_factory=dict)
    groups: dict[str, GroupInfo] = field(default_factory=dict)

    def copy(self) -> Registry:
        return Registry(dict(self.levels), dict(self.units), dict(self.groups))

    # -- lookups -----------------------------------------------------------------------------
    def _names(self) -> dict[str, list[str]]:
        """Lookup key of every name and alias → the codes that carry it, in declaration order."""
        # Built once: a Registry is not mutated after it is assembled (copy() makes a new one).
        cached = self.__dict__.get("_name_index")
        if cached is not None and cached[0] == (len(self.units), len(self.groups)):
            return cached[1]
        index: dict[str, list[str]] = {}
        named: list[tuple[str, tuple[str, ...]]] = [
            *((c, (u.name, *u.aliases)) for c, u in self.units.items()),
            *((c, (g.name, *g.aliases)) for c, g in self.groups.items()),
        ]
        for code, names in named:
            for n in names:
                codes = index.setdefault(name_key(n), [])
                if code not in codes:
                    codes.append(code)
        self.__dict__["_name_index"] = ((len(self.units), len(self.groups)), index)
        return index

    def candidates(
        self, ref: str, local: dict[str, GroupInfo] | None = None, on: date | None = None
    ) -> list[str]:
        """Every code ``ref`` may name: a code, else the units and groups with that name or alias.

        When several units carry the name, those valid on ``on`` (the document's date) are kept:
        a name reused by a successor after its predecessor ceased names the one of that day.
        More than one candidate means the name is ambiguous; none, that it is unknown.
        """
        if (local and ref in local) or ref in self.units or ref in self.groups:
            return [ref]
        key = name_key(ref)
        if local:
            found = [
                c for c, g in local.items() if key in {name_key(n) for n in (g.name, *g.aliases)}
            ]
            if found:
                return found
        found = self._names().get(key, [])
        if len(found) > 1 and on is not None:
            valid = [c for c in found if c in self.groups or self.units[c].valid_on(on)]
            found = valid or found
        return list(found)

    def resolve(
        self, ref: str, local: dict[str, GroupInfo] | None = None, on: date | None = None
    ) -> str | None:
        """Code of the one unit or group that ``ref`` names (a code, a name or an alias), else
        None (unknown, or ambiguous: see :meth:`candidates`)."""
        found = self.candidates(ref, local, on)
        return found[0] if len(found) == 1 else None

    def expand(self, code: str, local: dict[str, GroupInfo] | None = None) -> list[str]:
        """Unit codes a unit or group stands for, in declaration order, without duplicates.

        A group of groups is flattened ("Các sở, ban, ngành; UBND huyện, thành phố").
        """
        out: list[str] = []
        seen: set[str] = set()
        local = local or {}
        groups = self.groups

        def visit(c: str, stack: tuple[str, ...]) -> None:
            group = local.get(c) or groups.get(c)
            if group is None:
                if c not in seen:
                    seen.add(c)
                    out.append(c)
                return
            if c in stack:
                return  # cycles are reported by find_group_cycle; never loop here
            inner = (*stack, c)
            for m in group.members:
                if m in local or m in groups:
                    visit(m, inner)
                elif m not in seen:  # a unit: what visit(m) would do, without the call
                    seen.add(m)
                    out.append(m)

        visit(code, ())
        return out

    def find_group_cycle(self, local: dict[str, GroupInfo] | None = None) -> list[str] | None:
        """A membership cycle (list of group codes, first repeated at the end), if any."""
        groups = {**self.groups, **(local or {})}
        state: dict[str, int] = {}

        def dfs(c: str, path: list[str]) -> list[str] | None:
            state[c] = 1
            for m in groups[c].members:
                if m not in groups:
                    continue
                if state.get(m) == 1:
                    return [*path[path.index(m) :], m] if m in path else [c, m]
                if state.get(m) is None:
                    found = dfs(m, [*path, m])
                    if found:
                        return found
            state[c] = 2
            return None

        for g in groups:
            if state.get(g) is None:
                found = dfs(g, [g])
                if found:
                    return found
        return None

    def ancestors(self, code: str) -> Iterator[str]:
        """Parents of a unit, nearest first (escalation climbs this chain). Stops on a cycle."""
        seen = {code}
        cur = self.units.get(code)
        while cur is not None and cur.parent and cur.parent not in seen:
            seen.add(cur.parent)
            yield cur.parent
            cur = self.units.get(cur.parent)

    def current(self, code: str, day: date) -> str:
        """The unit that answers for ``code`` on ``day``, following successors of merged units."""
        seen = {code}
        cur = code
        while True:
            u = self.units.get(cur)
            if u is None or u.valid_to is None or day <= u.valid_to or not u.successor:
                return cur
            if u.successor in seen:
                return cur
            seen.add(u.successor)
            cur = u.successor

    def gone(self, code: str, day: date) -> bool:
        """Nobody answers for ``code`` on ``day``: its chain of successors ends in a unit that
        had ceased (a district dissolved on 1/7/2025 with no successor)."""
        u = self.units.get(self.current(code, day))
        return u is not None and u.valid_to is not None and u.valid_to < day
