"""What the files mean: references, deadlines, symbols, duplicates and cycles.

Every check returns located issues (``file:line:col: message``) and never stops at the first one,
so that one round of corrections suffices.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from kttt_workflow.domain.deadlines import DeadlineError, DeadlineKind, DeadlineSpec, parse_deadline
from kttt_workflow.domain.directive import DirectiveFile, EscalationStep, RegistryFile, TaskSpec
from kttt_workflow.domain.directive import Group as GroupSpec
from kttt_workflow.domain.directive import Unit as UnitSpec
from kttt_workflow.domain.escalation import ROLES
from kttt_workflow.domain.fanout import local_groups, walk
from kttt_workflow.domain.registry import GroupInfo, Registry
from kttt_workflow.domain.symbols import is_valid_symbol
from kttt_workflow.domain.targets import fmt_number
from kttt_workflow.domain.text import name_key
from kttt_workflow.errors import Issue
from kttt_workflow.inputs.messages import symbol_message, unknown_unit_message
from kttt_workflow.inputs.reader import LocatedDocument, Path_

Where = tuple[LocatedDocument, Path_]


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------
def registry_from(
    files: list[tuple[LocatedDocument, RegistryFile]], base: Registry
) -> tuple[Registry, list[Issue]]:
    """The stored registry ``base`` with the files' levels, units and groups; and their issues."""
    reg = base.copy()
    where: dict[str, Where] = {}
    issues = _declare(files, reg, where)
    for doc, rf in files:
        issues += _check_units(doc, rf, reg)
        issues += _check_members(doc, rf, reg)
        issues += _check_names(doc, rf)
    issues += _check_cycles(files, reg, where)
    return reg, issues


def _check_names(doc: LocatedDocument, rf: RegistryFile) -> list[Issue]:
    """Within one registry, a name or alias names one unit or group, unless the units carrying it
    were never valid at the same time (a successor that took over its predecessor's name)."""
    issues: list[Issue] = []
    seen: dict[str, list[tuple[str, date | None, date | None]]] = {}
    declared: list[tuple[str, int, UnitSpec | GroupSpec]] = [
        *(("units", i, u) for i, u in enumerate(rf.units)),
        *(("groups", i, g) for i, g in enumerate(rf.groups)),
    ]
    for kind, i, item in declared:
        start = getattr(item, "valid_from", None)
        end = getattr(item, "valid_to", None)
        names = [
            (("name",), item.name),
            *((("aliases", j), a) for j, a in enumerate(item.aliases)),
        ]
        for sub, text in names:
            same = seen.setdefault(name_key(text), [])
            if any(c == item.code for c, _, _ in same):
                continue  # a unit may repeat its own name as an alias
            clash = [c for c, s0, e0 in same if _overlap(s0, e0, start, end)]
            if clash:
                msg = (
                    f"tên '{text}' đã dùng cho {', '.join(clash)} trong cùng danh mục; mỗi tên "
                    "hoặc tên gọi khác chỉ thuộc một đơn vị (hoặc các đơn vị có thời gian hiệu "
                    "lực không trùng nhau)"
                )
                issues.append(doc.issue((kind, i, *sub), msg))
            same.append((item.code, start, end))
    return issues


def _overlap(s0: date | None, e0: date | None, s1: date | None, e1: date | None) -> bool:
    """Whether two validity periods share a day (an open end reaches forever)."""
    return (s1 is None or e0 is None or s1 <= e0) and (s0 is None or e1 is None or s0 <= e1)


def _declare(
    files: list[tuple[LocatedDocument, RegistryFile]], reg: Registry, where: dict[str, Where]
) -> list[Issue]:
    """Add every declared unit and group to ``reg``; a code may be declared once."""
    issues: list[Issue] = []

    def claim(doc: LocatedDocument, kind: str, i: int, code: str, clash: Mapping[str, Any]) -> bool:
        if code in where or code in clash:
            issues.append(doc.issue((kind, i, "code"), _duplicate(kind, code)))
            return False
        where[code] = (doc, (kind, i))
        return True

    for doc, rf in files:
        for lv in rf.levels:
            reg.levels.setdefault(lv.code, lv.name)
        for i, u in enumerate(rf.units):
            if claim(doc, "units", i, u.code, reg.groups):
                reg.units[u.code] = u.info()
        for i, g in enumerate(rf.groups):
            if claim(doc, "groups", i, g.code, reg.units):
                reg.groups[g.code] = g.info()
    return issues


def _duplicate(kind: str, code: str) -> str:
    if kind == "units":
        return f"mã đơn vị '{code}' bị trùng; mỗi mã chỉ khai báo một lần"
    return f"mã nhóm '{code}' bị trùng với một đơn vị hoặc nhóm khác"


def _check_units(doc: LocatedDocument, rf: RegistryFile, reg: Registry) -> list[Issue]:
    issues: list[Issue] = []
    for i, u in enumerate(rf.units):
        if u.level not in reg.levels:
            known = ", ".join(reg.levels) or "(chưa có)"
            issues.append(
                doc.issue(
                    ("units", i, "level"), f"cấp '{u.level}' chưa khai báo; các cấp đã có: {known}"
                )
            )
        for fld in ("parent", "successor"):
            ref = getattr(u, fld)
            if ref and ref not in reg.units:
                issues.append(
                    doc.issue(("units", i, fld), f"đơn vị '{ref}' chưa có trong danh mục đơn vị")
                )
        if u.valid_from and u.valid_to and u.valid_to < u.valid_from:
            issues.append(
                doc.issue(("units", i, "valid_to"), "ngày hết hiệu lực trước ngày bắt đầu hiệu lực")
            )
    return issues


def _check_members(doc: LocatedDocument, rf: RegistryFile, reg: Registry) -> list[Issue]:
    return [
        doc.issue(
            ("groups", i, "members", j), f"thành viên '{m}' không phải đơn vị hay nhóm đã khai báo"
        )
        for i, g in enumerate(rf.groups)
        for j, m in enumerate(g.members)
        if m not in reg.units and m not in reg.groups
    ]


def _check_cycles(
    files: list[tuple[LocatedDocument, RegistryFile]], reg: Registry, where: dict[str, Where]
) -> list[Issue]:
    """Group membership, parent units and successors must not go round in a circle."""
    issues: list[Issue] = []
    cycle = reg.find_group_cycle()
    if cycle and files:
        cdoc, cpath = where.get(cycle[0], (files[0][0], ()))
        issues.append(cdoc.issue(cpath, "vòng lặp trong thành viên nhóm: " + " → ".join(cycle)))
    for fld, what in (("parent", "vòng lặp cấp trên"), ("successor", "vòng lặp đơn vị kế thừa")):
        for code in where:
            chain = _chain(reg, code, fld)
            if chain is not None:
                doc, path = where[code]
                issues.append(doc.issue((*path, fld), f"{what}: " + " → ".join(chain)))
                break
    return issues


def _chain(reg: Registry, code: str, fld: str) -> list[str] | None:
    """The chain of ``fld`` links from ``code`` if it comes back to a unit already on it."""
    if code not in reg.units:
        return None
    chain = [code]
    cur = getattr(reg.units[code], fld)
    while cur and cur in reg.units and cur not in chain:
        chain.append(cur)
        cur = getattr(reg.units[cur], fld)
    return [*chain, cur] if cur and cur in chain else None


# ------------------------------------------------------------------------------------------------
# Directives
# ------------------------------------------------------------------------------------------------
def task_paths(d: DirectiveFile) -> dict[int, Path_]:
    """Where each task of ``d`` (by ``id()``) stands in the file: ``("tasks", 2, "children", 0)``."""
    paths: dict[int, Path_] = {}

    def index(tasks: list[TaskSpec], base: Path_) -> None:
        for i, t in enumerate(tasks):
            paths[id(t)] = (*base, i)
            index(t.children, (*base, i, "children"))

    index(d.tasks, ("tasks",))
    return paths


def check_directive(doc: LocatedDocument, d: DirectiveFile, reg: Registry) -> list[Issue]:
    """Groups, symbols, focal unit and every task of one directive, against the registry."""
    local = local_groups(d)
    issues = _check_groups(doc, d, reg, local)
    cycle = reg.find_group_cycle(local)
    if cycle:
        issues.append(
            doc.issue(("groups",), "vòng lặp trong thành viên nhóm: " + " → ".join(cycle))
        )
        return issues
    issues += _check_symbols(doc, d)
    on = d.document.date
    if d.focal_unit and reg.resolve(d.focal_unit, local, on) is None:
        issues.append(doc.issue(("focal_unit",), _unknown(d.focal_unit, reg, local, on)))
    tasks = _TaskChecks(doc, reg, local, d.document.date, task_paths(d))
    for spec, parent in walk(d.tasks):
        issues += tasks.check(spec, parent)
    return issues


def _check_groups(
    doc: LocatedDocument, d: DirectiveFile, reg: Registry, local: dict[str, GroupInfo]
) -> list[Issue]:
    issues: list[Issue] = []
    for i, g in enumerate(d.groups):
        if g.code in reg.units or g.code in reg.groups:
            issues.append(
                doc.issue(("groups", i, "code"), f"mã nhóm '{g.code}' trùng với danh mục đơn vị")
            )
        for j, m in enumerate(g.members):
            if reg.resolve(m, local) is None:
                issues.append(
                    doc.issue(
                        ("groups", i, "members", j),
                        f"thành viên '{m}' không phải đơn vị hay nhóm đã khai báo",
                    )
                )
    return issues


def _check_symbols(doc: LocatedDocument, d: DirectiveFile) -> list[Issue]:
    issues: list[Issue] = []
    if d.document.symbol and not is_valid_symbol(d.document.symbol):
        issues.append(doc.issue(("document", "symbol"), symbol_message(d.document.symbol)))
    for i, ref in enumerate(d.implements):
        if not is_valid_symbol(ref.symbol):
            issues.append(doc.issue(("implements", i, "symbol"), symbol_message(ref.symbol)))
    return issues


class _TaskChecks:
    """The checks of one task row, with what earlier rows of the same directive established."""

    def __init__(
        self,
        doc: LocatedDocument,
        reg: Registry,
        local: dict[str, GroupInfo],
        issued: date | None,
        paths: dict[int, Path_],
    ) -> None:
        self.doc, self.reg, self.local, self.issued, self.paths = doc, reg, local, issued, paths
        self.seen: dict[str, Path_] = {}  # task id -> where it was first declared
        self.deadlines: dict[str, DeadlineSpec] = {}

    def check(self, spec: TaskSpec, parent: TaskSpec | None) -> list[Issue]:
        p = self.paths[id(spec)]
        issues = self._duplicate_id(spec, p) + self._lead(spec, p)
        for j, c in enumerate(spec.coordinating):
            if self.reg.resolve(c, self.local, self.issued) is None:
                msg = _unknown(c, self.reg, self.local, self.issued)
                issues.append(self.doc.issue((*p, "coordinating", j), msg))
        return issues + self._deadline(spec, parent, p) + self._targets(spec, p)

    def _targets(self, spec: TaskSpec, p: Path_) -> list[Issue]:
        """A target's split names the task's leads and adds up to its value (unless partial);
        an indicator appears once per task."""
        issues: list[Issue] = []
        if not spec.targets:  # nothing to check, and no set of every lead (a group: 100,000)
            return issues
        lead = self.reg.resolve(spec.lead, self.local, self.issued)
        units = set(self.reg.expand(lead, self.local)) if lead else set()
        names: set[str] = set()
        for i, t in enumerate(spec.targets):
            at = (*p, "targets", i)
            if t.indicator in names:
                issues.append(
                    self.doc.issue((*at, "indicator"), f"chỉ tiêu '{t.indicator}' bị trùng")
                )
            names.add(t.indicator)
            for code in t.split:
                if units and code not in units:
                    msg = (
                        f"'{code}' không phải đơn vị chủ trì của nhiệm vụ '{spec.id}' "
                        f"(các đơn vị: {', '.join(sorted(units))})"
                    )
                    issues.append(self.doc.issue((*at, "split", code), msg))
            if not t.split:
                continue
            total = sum(t.split.values())
            if abs(total - t.value) > 1e-9 * max(1.0, t.value) and not (
                t.partial and total < t.value
            ):
                if t.partial:
                    msg = f"tổng phân bổ ({fmt_number(total)}) lớn hơn giá trị chỉ tiêu ({fmt_number(t.value)})"
                else:
                    msg = (
                        f"tổng phân bổ ({fmt_number(total)}) khác giá trị chỉ tiêu ({fmt_number(t.value)}): "
                        "sửa phân bổ, hoặc ghi 'partial: true' nếu phân bổ chưa đủ"
                    )
                issues.append(self.doc.issue((*at, "split"), msg))
        return issues

    def _duplicate_id(self, spec: TaskSpec, p: Path_) -> list[Issue]:
        first = self.seen.setdefault(spec.id, p)
        if first is p:
            return []
        line, _ = self.doc.where((*first, "id"))
        msg = f"số thứ tự nhiệm vụ '{spec.id}' bị trùng (đã dùng ở dòng {line})"
        return [self.doc.issue((*p, "id"), msg)]

    def _lead(self, spec: TaskSpec, p: Path_) -> list[Issue]:
        at = (*p, "lead")
        lead = self.reg.resolve(spec.lead, self.local, self.issued)
        if lead is None:
            parts = [x.strip() for x in spec.lead.replace(";", ",").split(",") if x.strip()]
            if len(parts) >= 2 and all(self.reg.resolve(x, self.local, self.issued) for x in parts):
                msg = "mỗi nhiệm vụ có đúng một cơ quan chủ trì; ở đây ghi nhiều cơ quan — hãy khai báo một nhóm"
                return [self.doc.issue(at, msg)]
            return [self.doc.issue(at, _unknown(spec.lead, self.reg, self.local, self.issued))]
        units = self.reg.expand(lead, self.local)
        if not units:
            return [self.doc.issue(at, f"nhóm '{spec.lead}' không có đơn vị thành viên")]
        if self.issued is None:
            return []
        issues: list[Issue] = []
        for u in units:
            info = self.reg.units.get(u)
            if info and not info.valid_on(self.issued):
                hint = f"; đơn vị kế thừa: '{info.successor}'" if info.successor else ""
                msg = f"đơn vị '{u}' không còn hoặc chưa tồn tại vào ngày ban hành {self.issued:%d/%m/%Y}{hint}"
                issues.append(self.doc.issue(at, msg))
        return issues

    def _deadline(self, spec: TaskSpec, parent: TaskSpec | None, p: Path_) -> list[Issue]:
        try:
            dl = self.deadlines[spec.id] = parse_deadline(spec.deadline, self.issued)
        except DeadlineError as exc:
            return [self.doc.issue((*p, "deadline"), str(exc))]
        if (
            not spec.note
            and self.issued is not None
            and dl.kind == DeadlineKind.FIXED
            and dl.due is not None
            and dl.due < self.issued
        ):
            msg = (
                f"thời hạn {dl.due:%d/%m/%Y} trước ngày ban hành văn bản ({self.issued:%d/%m/%Y}); "
                "kiểm tra lại năm, hoặc nếu đúng như văn bản, hãy ghi lý do vào 'note'"
            )
            return [self.doc.issue((*p, "deadline"), msg)]
        pdl = self.deadlines.get(parent.id) if parent is not None and not spec.note else None
        if (
            parent is None
            or pdl is None
            or pdl.kind != DeadlineKind.FIXED
            or dl.kind != DeadlineKind.FIXED
            or dl.due is None
            or pdl.due is None
            or dl.due >= pdl.due
        ):
            return []
        msg = (
            f"nhiệm vụ con có hạn {dl.due:%d/%m/%Y} trước hạn của nhiệm vụ cha '{parent.id}' "
            f"({pdl.due:%d/%m/%Y}); nếu đúng như văn bản, hãy ghi lý do vào 'note'"
        )
        return [self.doc.issue((*p, "deadline"), msg)]


def check_steps(
    doc: LocatedDocument,
    base: Path_,
    steps: list[EscalationStep],
    reg: Registry,
    local: dict[str, GroupInfo],
) -> list[Issue]:
    """Step codes unique; every recipient a role or a unit (not a group: a notice goes to a unit)."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, st in enumerate(steps):
        if st.code in seen:
            issues.append(doc.issue((*base, "steps", i, "code"), f"mã bước '{st.code}' bị trùng"))
        seen.add(st.code)
        for fld in ("to", "cc"):
            for j, r in enumerate(getattr(st, fld)):
                if r in ROLES:
                    continue
                code = reg.resolve(r, local)
                if code is None or code not in reg.units:
                    issues.append(
                        doc.issue(
                            (*base, "steps", i, fld, j),
                            f"người nhận '{r}' không phải vai trò ({', '.join(ROLES)}) hay mã đơn vị",
                        )
                    )
    return issues


def check_fragments(doc: LocatedDocument, reg: Registry) -> list[Issue]:
    """Meaning checks on the tasks of a directive that failed schema validation elsewhere.

    So that one round of corrections suffices: a missing title in one task does not hide an
    unknown lead unit or an impossible deadline in another.
    """
    data = doc.data if isinstance(doc.data, dict) else {}
    local: dict[str, GroupInfo] = {}
    for g in data.get("groups") or []:
        try:
            gm = GroupSpec.model_validate(g)
        except ValidationError:
            continue
        local[gm.code] = gm.info()
    issued = _issued(data.get("date"))
    issues: list[Issue] = []

    def unknown(value: Any, path: Path_) -> None:
        if isinstance(value, str) and value.strip() and reg.resolve(value.strip(), local) is None:
            issues.append(doc.issue(path, _unknown(value.strip(), reg, local)))

    def visit(tasks: Any, base: Path_) -> None:
        if not isinstance(tasks, list):
            return
        for i, raw in enumerate(tasks):
            if not isinstance(raw, dict):
                continue
            p = (*base, i)
            unknown(raw.get("lead"), (*p, "lead"))
            coord = raw.get("coordinating")
            for j, c in enumerate(coord if isinstance(coord, list) else ()):
                unknown(c, (*p, "coordinating", j))
            dl = raw.get("deadline")
            if isinstance(dl, str):
                try:
                    parse_deadline(dl, issued)
                except DeadlineError as exc:
                    issues.append(doc.issue((*p, "deadline"), str(exc)))
            visit(raw.get("children"), (*p, "children"))

    visit(data.get("tasks"), ("tasks",))
    return issues


def implements_cycles(
    directives: list[tuple[LocatedDocument, DirectiveFile]], known: dict[str, tuple[str, ...]]
) -> list[Issue]:
    """A directive may not implement itself, directly or through others."""
    graph: dict[str, tuple[str, ...]] = dict(known)
    where: dict[str, LocatedDocument] = {}
    for doc, d in directives:
        graph[d.code] = tuple(r.directive for r in d.implements if r.directive)
        where[d.code] = doc
    issues: list[Issue] = []
    for start in where:
        stack: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycle = " → ".join((*path, nxt))
                    issues.append(
                        where[start].issue(
                            ("implements",),
                            f"vòng lặp trong chuỗi văn bản (văn bản thực hiện chính nó): {cycle}",
                        )
                    )
                    stack = []
                    break
                if nxt not in path:
                    stack.append((nxt, (*path, nxt)))
    return issues


def _unknown(
    ref: str, reg: Registry, local: dict[str, GroupInfo] | None = None, on: date | None = None
) -> str:
    """Why ``ref`` names no unit: it is unknown, or it names several (listed with their codes)."""
    found = reg.candidates(ref, local, on)
    if len(found) > 1:
        listed = "; ".join(f"{c} ({_name(reg, local, c)})" for c in found)
        return (
            f"tên '{ref}' ứng với nhiều đơn vị hoặc nhóm: {listed}; hãy ghi mã của đơn vị được giao"
        )
    return unknown_unit_message(ref, [*reg.units, *reg.groups])


def _name(reg: Registry, local: dict[str, GroupInfo] | None, code: str) -> str:
    info = reg.units.get(code) or reg.groups.get(code) or (local or {}).get(code)
    return info.name if info else code


def _issued(value: Any) -> date | None:
    """The document's date of a file that failed validation, when it can still be read: it tells
    a deadline written without its year which year to suggest."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
