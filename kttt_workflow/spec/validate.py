"""Validate registry and directive files, all or nothing, with located Vietnamese errors.

``load_inputs`` reads every file, checks the YAML, the models (pydantic) and the meaning
(references, deadlines, symbols, duplicates, cycles), and either returns a :class:`Bundle` or raises
:class:`InputError` listing every problem as ``file:line:col: message``. Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kttt_workflow.domain.deadlines import DeadlineError, DeadlineKind, parse_deadline
from kttt_workflow.domain.fanout import DEFAULT_POLICY, local_groups, walk
from kttt_workflow.domain.registry import GroupInfo, Registry, UnitInfo
from kttt_workflow.spec.errors import InputError, Issue
from kttt_workflow.spec.models import (
    ROLES,
    DirectiveFile,
    EscalationPolicy,
    EscalationStep,
    PolicyFile,
    RegistryFile,
    symbol_is_valid,
)
from kttt_workflow.spec.models import Group as GroupSpec
from kttt_workflow.spec.yamlio import LocatedDocument, read_yaml

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Bundle:
    """Validated inputs: the merged registry and the directives, each with its located source."""

    registry: Registry
    registry_files: list[tuple[LocatedDocument, RegistryFile]] = field(default_factory=list)
    directives: list[tuple[LocatedDocument, DirectiveFile]] = field(default_factory=list)
    policies: list[tuple[LocatedDocument, PolicyFile]] = field(default_factory=list)
    sources: dict[str, bytes] = field(default_factory=dict)  # file name -> raw bytes (for hashing)


def collect_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Issue]]:
    """Expand directories into their YAML files (recursively, sorted); report missing paths."""
    files: list[Path] = []
    issues: list[Issue] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(
                sorted(q for q in p.rglob("*") if q.suffix in YAML_SUFFIXES and q.is_file())
            )
        elif p.is_file():
            files.append(p)
        else:
            issues.append(Issue(str(p), 0, 0, "không tìm thấy tệp hoặc thư mục này"))
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]  # type: ignore[func-returns-value]
    return unique, issues


# ------------------------------------------------------------------------------------------------
# pydantic errors in the user's terms
# ------------------------------------------------------------------------------------------------
_KIND_HELP = (
    "cần 'kind: registry' (danh mục đơn vị), 'kind: directive' (văn bản chỉ đạo) "
    "hoặc 'kind: policy' (chính sách nhắc việc, đôn đốc)"
)


def _field_list(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def _model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of ``loc`` (to list its valid fields)."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        f = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if f is None:
            return None
        ann = f.annotation
        inner = getattr(ann, "__args__", None)
        candidates = [ann, *(inner or ())]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return None
        model = nxt
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def translate(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, bool]:
    """Vietnamese message for one pydantic error, and whether it points at a key (not a value)."""
    kind = err["type"]
    loc = [p for p in err["loc"]]
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    value = err.get("input")
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    if kind == "missing":
        return f"thiếu trường bắt buộc '{name}'", False
    if kind == "extra_forbidden":
        model = _model_at(root, loc)
        valid = f"; các trường hợp lệ: {_field_list(model)}" if model else ""
        return f"trường '{name}' không được hỗ trợ{valid}", True
    if name == "lead" and isinstance(value, list):
        return (
            "mỗi nhiệm vụ có đúng một cơ quan chủ trì (một mã đơn vị hoặc nhóm), "
            f"ở đây có {len(value)}; nếu nhiều cơ quan cùng chủ trì, hãy khai báo một nhóm",
            False,
        )
    if kind == "string_pattern_mismatch":
        if name in ("id",) or (loc and loc[-1] == "id" and "tasks" in loc):
            return (
                f"số thứ tự nhiệm vụ {shown} không hợp lệ; cần dạng 'I.1', 'IV.3', 'TCTH.2'",
                False,
            )
        return (
            f"mã {shown} không hợp lệ; mã chỉ gồm chữ thường không dấu, chữ số và dấu '-', "
            "ví dụ 'tq-so-noi-vu'",
            False,
        )
    if kind in (
        "date_from_datetime_parsing",
        "date_parsing",
        "date_type",
        "date_from_datetime_inexact",
    ):
        return (
            f"ngày {shown} không hợp lệ; cần ngày có thật, dạng YYYY-MM-DD (ví dụ 2013-10-01)",
            False,
        )
    if kind == "literal_error":
        if name == "kind":
            return f"loại tệp {shown} không hợp lệ; {_KIND_HELP}", False
        return f"giá trị {shown} không hợp lệ; cần {err.get('ctx', {}).get('expected', '')}", False
    if kind == "enum":
        return (
            f"giá trị {shown} không hợp lệ; cần một trong: {err.get('ctx', {}).get('expected', '')}",
            False,
        )
    if kind in ("string_type", "string_too_short"):
        return f"trường '{name}' cần một chuỗi văn bản không rỗng", False
    if kind == "list_type":
        return f"trường '{name}' cần một danh sách (mỗi phần tử một dòng bắt đầu bằng '- ')", False
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"'{name or 'tệp'}' cần một bảng khóa: giá trị", False
    if kind == "bool_parsing" or kind == "bool_type":
        return f"trường '{name}' cần true hoặc false", False
    if kind == "too_short":
        return f"danh sách '{name}' không được rỗng", False
    if kind == "string_too_long":
        return f"trường '{name}' quá dài", False
    return f"giá trị không hợp lệ cho '{name}' ({err.get('msg', kind)})", False


def _model_issues(doc: LocatedDocument, model: type[BaseModel]) -> tuple[Any, list[Issue]]:
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            msg, at_key = translate(dict(err), model)
            issues.append(doc.issue(tuple(err["loc"]), msg, key=at_key))
        return None, issues


# ------------------------------------------------------------------------------------------------
# Meaning
# ------------------------------------------------------------------------------------------------
def _registry_from(
    files: list[tuple[LocatedDocument, RegistryFile]], base: Registry
) -> tuple[Registry, list[Issue]]:
    reg = base.copy()
    issues: list[Issue] = []
    where: dict[str, tuple[LocatedDocument, tuple[str | int, ...]]] = {}
    for doc, rf in files:
        for lv in rf.levels:
            reg.levels.setdefault(lv.code, lv.name)
        for i, u in enumerate(rf.units):
            path = ("units", i, "code")
            if u.code in where or u.code in reg.groups:
                issues.append(
                    doc.issue(path, f"mã đơn vị '{u.code}' bị trùng; mỗi mã chỉ khai báo một lần")
                )
                continue
            where[u.code] = (doc, ("units", i))
            reg.units[u.code] = UnitInfo(
                u.code,
                u.name,
                u.level,
                u.parent,
                tuple(u.aliases),
                tuple(u.targets),
                u.valid_from,
                u.valid_to,
                u.successor,
                u.note,
            )
        for i, g in enumerate(rf.groups):
            path = ("groups", i, "code")
            if g.code in where or g.code in reg.units:
                issues.append(
                    doc.issue(path, f"mã nhóm '{g.code}' bị trùng với một đơn vị hoặc nhóm khác")
                )
                continue
            where[g.code] = (doc, ("groups", i))
            reg.groups[g.code] = GroupInfo(
                g.code, g.name, tuple(g.members), tuple(g.aliases), g.note
            )
    for doc, rf in files:
        for i, u in enumerate(rf.units):
            if u.level not in reg.levels:
                issues.append(
                    doc.issue(
                        ("units", i, "level"),
                        f"cấp '{u.level}' chưa khai báo; các cấp đã có: {', '.join(reg.levels) or '(chưa có)'}",
                    )
                )
            for fld in ("parent", "successor"):
                ref = getattr(u, fld)
                if ref and ref not in reg.units:
                    issues.append(
                        doc.issue(
                            ("units", i, fld), f"đơn vị '{ref}' chưa có trong danh mục đơn vị"
                        )
                    )
            if u.valid_from and u.valid_to and u.valid_to < u.valid_from:
                issues.append(
                    doc.issue(
                        ("units", i, "valid_to"), "ngày hết hiệu lực trước ngày bắt đầu hiệu lực"
                    )
                )
        for i, g in enumerate(rf.groups):
            for j, m in enumerate(g.members):
                if m not in reg.units and m not in reg.groups:
                    issues.append(
                        doc.issue(
                            ("groups", i, "members", j),
                            f"thành viên '{m}' không phải đơn vị hay nhóm đã khai báo",
                        )
                    )
    cycle = reg.find_group_cycle()
    if cycle:
        cdoc, cpath = where.get(cycle[0], (files[0][0], ())) if files else (None, ())
        if cdoc is not None:
            issues.append(cdoc.issue(cpath, "vòng lặp trong thành viên nhóm: " + " → ".join(cycle)))
    for code in where:
        if code in reg.units:
            chain = [code]
            cur = reg.units[code].parent
            while cur and cur in reg.units and cur not in chain:
                chain.append(cur)
                cur = reg.units[cur].parent
            if cur and cur in chain:
                pdoc, ppath = where[code]
                issues.append(
                    pdoc.issue(
                        (*ppath, "parent"), "vòng lặp cấp trên: " + " → ".join([*chain, cur])
                    )
                )
                break
    return reg, issues


def _check_directive(
    doc: LocatedDocument,
    d: DirectiveFile,
    reg: Registry,
) -> list[Issue]:
    issues: list[Issue] = []
    local = local_groups(d)
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
    cycle = reg.find_group_cycle(local)
    if cycle:
        issues.append(
            doc.issue(("groups",), "vòng lặp trong thành viên nhóm: " + " → ".join(cycle))
        )
        return issues
    if d.document.symbol and not symbol_is_valid(d.document.symbol):
        issues.append(doc.issue(("document", "symbol"), _symbol_msg(d.document.symbol)))
    for i, ref in enumerate(d.implements):
        if not symbol_is_valid(ref.symbol):
            issues.append(doc.issue(("implements", i, "symbol"), _symbol_msg(ref.symbol)))
    if d.focal_unit and reg.resolve(d.focal_unit, local) is None:
        issues.append(doc.issue(("focal_unit",), _unknown(d.focal_unit, reg)))
    issued = d.document.date

    paths: dict[int, tuple[str | int, ...]] = {}

    def index(tasks: list[Any], base: tuple[str | int, ...]) -> None:
        for i, t in enumerate(tasks):
            paths[id(t)] = (*base, i)
            index(t.children, (*base, i, "children"))

    index(d.tasks, ("tasks",))
    seen: dict[str, tuple[str | int, ...]] = {}
    parsed: dict[str, Any] = {}
    for spec, parent in walk(d.tasks):
        p = paths[id(spec)]
        if spec.id in seen:
            line, _ = doc.where(seen[spec.id] + ("id",))
            issues.append(
                doc.issue(
                    (*p, "id"), f"số thứ tự nhiệm vụ '{spec.id}' bị trùng (đã dùng ở dòng {line})"
                )
            )
        seen.setdefault(spec.id, p)
        lead = reg.resolve(spec.lead, local)
        if lead is None:
            parts = [x.strip() for x in spec.lead.replace(";", ",").split(",") if x.strip()]
            if len(parts) >= 2 and all(reg.resolve(part, local) for part in parts):
                issues.append(
                    doc.issue(
                        (*p, "lead"),
                        "mỗi nhiệm vụ có đúng một cơ quan chủ trì; ở đây ghi nhiều cơ quan — hãy khai báo một nhóm",
                    )
                )
            else:
                issues.append(doc.issue((*p, "lead"), _unknown(spec.lead, reg)))
        else:
            if not reg.expand(lead, local):
                issues.append(
                    doc.issue((*p, "lead"), f"nhóm '{spec.lead}' không có đơn vị thành viên")
                )
            if issued:
                for u in reg.expand(lead, local):
                    info = reg.units.get(u)
                    if info and not info.valid_on(issued):
                        hint = f"; đơn vị kế thừa: '{info.successor}'" if info.successor else ""
                        issues.append(
                            doc.issue(
                                (*p, "lead"),
                                f"đơn vị '{u}' không còn hoặc chưa tồn tại vào ngày ban hành {issued:%d/%m/%Y}{hint}",
                            )
                        )
        for j, c in enumerate(spec.coordinating):
            if reg.resolve(c, local) is None:
                issues.append(doc.issue((*p, "coordinating", j), _unknown(c, reg)))
        try:
            dl = parse_deadline(spec.deadline, issued)
            parsed[spec.id] = dl
        except DeadlineError as exc:
            issues.append(doc.issue((*p, "deadline"), str(exc)))
            continue
        if parent is not None and not spec.note:
            pdl = parsed.get(parent.id)
            if (
                pdl is not None
                and pdl.kind == DeadlineKind.FIXED
                and dl.kind == DeadlineKind.FIXED
                and dl.due is not None
                and pdl.due is not None
                and dl.due < pdl.due
            ):
                issues.append(
                    doc.issue(
                        (*p, "deadline"),
                        f"nhiệm vụ con có hạn {dl.due:%d/%m/%Y} trước hạn của nhiệm vụ cha '{parent.id}' "
                        f"({pdl.due:%d/%m/%Y}); nếu đúng như văn bản, hãy ghi lý do vào 'note'",
                    )
                )
    return issues


def _task_paths(d: DirectiveFile) -> dict[int, tuple[str | int, ...]]:
    paths: dict[int, tuple[str | int, ...]] = {}

    def index(tasks: list[Any], base: tuple[str | int, ...]) -> None:
        for i, t in enumerate(tasks):
            paths[id(t)] = (*base, i)
            index(t.children, (*base, i, "children"))

    index(d.tasks, ("tasks",))
    return paths


def _check_steps(
    doc: LocatedDocument,
    base: tuple[str | int, ...],
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


def _check_fragments(doc: LocatedDocument, reg: Registry) -> list[Issue]:
    """Meaning checks on the tasks of a directive that failed schema validation elsewhere.

    So that one round of corrections suffices: a missing title in one task does not hide an
    unknown lead unit or an impossible deadline in another.
    """
    issues: list[Issue] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    local: dict[str, GroupInfo] = {}
    for g in data.get("groups") or []:
        try:
            gm = GroupSpec.model_validate(g)
        except ValidationError:
            continue
        local[gm.code] = GroupInfo(gm.code, gm.name, tuple(gm.members), tuple(gm.aliases), gm.note)

    def visit(tasks: Any, base: tuple[str | int, ...]) -> None:
        if not isinstance(tasks, list):
            return
        for i, raw in enumerate(tasks):
            if not isinstance(raw, dict):
                continue
            p = (*base, i)
            lead = raw.get("lead")
            if isinstance(lead, str) and lead.strip() and reg.resolve(lead.strip(), local) is None:
                issues.append(doc.issue((*p, "lead"), _unknown(lead, reg)))
            coord = raw.get("coordinating")
            if isinstance(coord, list):
                for j, c in enumerate(coord):
                    if isinstance(c, str) and c.strip() and reg.resolve(c.strip(), local) is None:
                        issues.append(doc.issue((*p, "coordinating", j), _unknown(c, reg)))
            dl = raw.get("deadline")
            if isinstance(dl, str):
                try:
                    parse_deadline(dl)
                except DeadlineError as exc:
                    issues.append(doc.issue((*p, "deadline"), str(exc)))
            visit(raw.get("children"), (*p, "children"))

    visit(data.get("tasks"), ("tasks",))
    return issues


def _symbol_msg(symbol: str) -> str:
    return (
        f"số, ký hiệu văn bản '{symbol}' không đúng thể thức; cần dạng văn bản nhà nước "
        "'67/KH-UBND', '09/2019/NĐ-CP' hoặc văn bản của Đảng '20-NQ/TW', '27-CTr/TU'"
    )


def _unknown(ref: str, reg: Registry) -> str:
    from difflib import get_close_matches

    names = [*reg.units, *reg.groups]
    close = get_close_matches(ref, names, n=3, cutoff=0.6)
    hint = f"; có phải: {', '.join(close)}?" if close else ""
    return f"không tìm thấy đơn vị hoặc nhóm '{ref}' trong danh mục đơn vị{hint}"


def _implements_cycles(
    directives: list[tuple[LocatedDocument, DirectiveFile]], known: dict[str, tuple[str, ...]]
) -> list[Issue]:
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


def load_inputs(
    paths: Iterable[str | Path],
    base: Registry | None = None,
    known_implements: dict[str, tuple[str, ...]] | None = None,
    known_policies: Iterable[str] | None = None,
) -> Bundle:
    """Read and validate files; raise :class:`InputError` with every issue, or return a Bundle."""
    files, issues = collect_paths(paths)
    if not files and not issues:
        issues.append(Issue("(không có tệp)", 0, 0, "không có tệp YAML nào để xử lý"))
    registries: list[tuple[LocatedDocument, RegistryFile]] = []
    directives: list[tuple[LocatedDocument, DirectiveFile]] = []
    policies: list[tuple[LocatedDocument, PolicyFile]] = []
    # Directives with schema errors: their tasks are still checked, so one round of fixes suffices.
    partial: list[LocatedDocument] = []
    sources: dict[str, bytes] = {}
    for f in files:
        name = str(f)
        doc, found = read_yaml(f, name)
        issues.extend(found)
        if doc is None:
            continue
        sources[name] = f.read_bytes()
        data = doc.data
        kind = data.get("kind") if isinstance(data, dict) else None
        if not isinstance(data, dict):
            issues.append(doc.issue((), f"tệp cần một bảng YAML ở cấp ngoài cùng; {_KIND_HELP}"))
        elif kind == "registry":
            model, found = _model_issues(doc, RegistryFile)
            issues.extend(found)
            if model:
                registries.append((doc, model))
        elif kind == "policy":
            model, found = _model_issues(doc, PolicyFile)
            issues.extend(found)
            if model:
                policies.append((doc, model))
        elif kind == "directive":
            model, found = _model_issues(doc, DirectiveFile)
            issues.extend(found)
            if model:
                directives.append((doc, model))
            else:
                partial.append(doc)
        else:
            path = ("kind",) if "kind" in data else ()
            shown = f" '{kind}'" if kind is not None else ""
            issues.append(doc.issue(path, f"loại tệp{shown} không hợp lệ hoặc thiếu; {_KIND_HELP}"))
    reg, found = _registry_from(registries, base or Registry())
    issues.extend(found)
    codes: dict[str, LocatedDocument] = {}
    for doc, d in directives:
        if d.code in codes:
            issues.append(
                doc.issue(
                    ("code",), f"mã chỉ đạo '{d.code}' đã dùng trong tệp {codes[d.code].file}"
                )
            )
        codes[d.code] = doc
        issues.extend(_check_directive(doc, d, reg))
    policy_codes = set(known_policies or ()) | {DEFAULT_POLICY}
    in_files: set[str] = set()
    for doc, pf in policies:
        if pf.code in in_files:
            issues.append(doc.issue(("code",), f"mã chính sách '{pf.code}' bị trùng"))
        in_files.add(pf.code)
        policy_codes.add(pf.code)
        issues.extend(_check_steps(doc, (), pf.steps, reg, {}))
    for doc, d in directives:
        local = local_groups(d)
        refs: list[tuple[tuple[str | int, ...], Any]] = [(("escalation",), d.escalation)]
        tpaths = _task_paths(d)
        refs += [((*tpaths[id(t)], "escalation"), t.escalation) for t, _ in walk(d.tasks)]
        for ref_path, ref in refs:
            if isinstance(ref, str) and ref not in policy_codes:
                issues.append(
                    doc.issue(
                        ref_path,
                        f"không có chính sách nhắc việc mã '{ref}'; các mã đã có: {', '.join(sorted(policy_codes))}",
                    )
                )
            elif isinstance(ref, EscalationPolicy):
                issues.extend(_check_steps(doc, ref_path, ref.steps, reg, local))
    declared = set(known_implements or {}) | set(codes)
    for doc, d in directives:
        for i, ref in enumerate(d.implements):
            if ref.directive and ref.directive not in declared:
                issues.append(
                    doc.issue(
                        ("implements", i, "directive"),
                        f"không có văn bản chỉ đạo mã '{ref.directive}' trong hệ thống hay trong các tệp đang nạp",
                    )
                )
    for doc in partial:
        issues.extend(_check_fragments(doc, reg))
    issues.extend(_implements_cycles(directives, known_implements or {}))
    if issues:
        raise InputError(issues)
    return Bundle(reg, registries, directives, policies, sources)
