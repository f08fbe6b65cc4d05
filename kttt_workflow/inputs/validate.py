"""Validate registry, policy and directive files, all or nothing, with located Vietnamese errors.

``load_inputs`` reads every file, checks the YAML (:mod:`.reader`), the models (pydantic, with
messages from :mod:`.messages`) and the meaning (:mod:`.checks`: references, deadlines, symbols,
duplicates, cycles), and either returns a :class:`Bundle` or raises :class:`InputError` listing
every problem as ``file:line:col: message``. Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kttt_workflow.domain.directive import DirectiveFile, EscalationPolicy, PolicyFile, RegistryFile
from kttt_workflow.domain.fanout import DEFAULT_POLICY, local_groups, walk
from kttt_workflow.domain.registry import Registry
from kttt_workflow.errors import InputError, Issue
from kttt_workflow.inputs.checks import (
    check_directive,
    check_fragments,
    check_steps,
    implements_cycles,
    registry_from,
    task_paths,
)
from kttt_workflow.inputs.messages import KIND_HELP, translate
from kttt_workflow.inputs.reader import MAX_BYTES, LocatedDocument, Path_, read_yaml

YAML_SUFFIXES = (".yaml", ".yml")
MODELS: dict[str, type[BaseModel]] = {
    "registry": RegistryFile,
    "policy": PolicyFile,
    "directive": DirectiveFile,
}


@dataclass
class Bundle:
    """Validated inputs: the merged registry and the directives, each with its located source."""

    registry: Registry
    registry_files: list[tuple[LocatedDocument, RegistryFile]] = field(default_factory=list)
    directives: list[tuple[LocatedDocument, DirectiveFile]] = field(default_factory=list)
    policies: list[tuple[LocatedDocument, PolicyFile]] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)  # located, loaded anyway

    @property
    def task_count(self) -> int:
        """Task rows declared in the directives (before fan-out to units and periods)."""
        return sum(1 for _, d in self.directives for _ in walk(d.tasks))


@dataclass
class _Read:
    """What the first pass over the files found, by kind."""

    files: dict[str, list[tuple[LocatedDocument, Any]]] = field(
        default_factory=lambda: {kind: [] for kind in MODELS}
    )
    partial: list[LocatedDocument] = field(default_factory=list)  # directives with schema errors
    issues: list[Issue] = field(default_factory=list)


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


def _model_issues(doc: LocatedDocument, model: type[BaseModel]) -> tuple[Any, list[Issue]]:
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            msg, at_key = translate(dict(err), model)
            issues.append(doc.issue(tuple(err["loc"]), msg, key=at_key))
        return None, issues


def _read(paths: Iterable[str | Path], max_bytes: int) -> _Read:
    """Parse every file and check it against the model of its ``kind``."""
    files, issues = collect_paths(paths)
    out = _Read(issues=issues)
    if not files and not issues:
        out.issues.append(Issue("(không có tệp)", 0, 0, "không có tệp YAML nào để xử lý"))
    for f in files:
        name = str(f)
        doc, found = read_yaml(f, name, max_bytes=max_bytes)
        out.issues.extend(found)
        if doc is None:
            continue
        data = doc.data
        if not isinstance(data, dict):
            out.issues.append(doc.issue((), f"tệp cần một bảng YAML ở cấp ngoài cùng; {KIND_HELP}"))
            continue
        kind = data.get("kind")
        model = MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            path: Path_ = ("kind",) if "kind" in data else ()
            shown = f" '{kind}'" if kind is not None else ""
            out.issues.append(
                doc.issue(path, f"loại tệp{shown} không hợp lệ hoặc thiếu; {KIND_HELP}")
            )
            continue
        parsed, found = _model_issues(doc, model)
        out.issues.extend(found)
        if parsed is not None:
            out.files[str(kind)].append((doc, parsed))
        elif kind == "directive":
            out.partial.append(doc)
    return out


def _check_policies(read: _Read, reg: Registry, known_policies: Iterable[str]) -> list[Issue]:
    """Policy files are sound, and every policy a directive names exists."""
    issues: list[Issue] = []
    codes = set(known_policies) | {DEFAULT_POLICY}
    in_files: set[str] = set()
    for doc, pf in read.files["policy"]:
        if pf.code in in_files:
            issues.append(doc.issue(("code",), f"mã chính sách '{pf.code}' bị trùng"))
        in_files.add(pf.code)
        codes.add(pf.code)
        issues.extend(check_steps(doc, (), pf.steps, reg, {}))
    for doc, d in read.files["directive"]:
        local = local_groups(d)
        paths = task_paths(d)
        refs: list[tuple[Path_, Any]] = [(("escalation",), d.escalation)]
        refs += [((*paths[id(t)], "escalation"), t.escalation) for t, _ in walk(d.tasks)]
        for at, ref in refs:
            if isinstance(ref, str) and ref not in codes:
                known = ", ".join(sorted(codes))
                issues.append(
                    doc.issue(
                        at, f"không có chính sách nhắc việc mã '{ref}'; các mã đã có: {known}"
                    )
                )
            elif isinstance(ref, EscalationPolicy):
                issues.extend(check_steps(doc, at, ref.steps, reg, local))
    return issues


def _check_directive_codes(
    read: _Read, reg: Registry, known_implements: dict[str, tuple[str, ...]]
) -> list[Issue]:
    """Directive codes unique among the files; every directive named in ``implements`` exists."""
    issues: list[Issue] = []
    codes: dict[str, LocatedDocument] = {}
    for doc, d in read.files["directive"]:
        if d.code in codes:
            msg = f"mã chỉ đạo '{d.code}' đã dùng trong tệp {codes[d.code].file}"
            issues.append(doc.issue(("code",), msg))
        codes[d.code] = doc
        issues.extend(check_directive(doc, d, reg))
    declared = set(known_implements) | set(codes)
    for doc, d in read.files["directive"]:
        for i, ref in enumerate(d.implements):
            if ref.directive and ref.directive not in declared:
                msg = f"không có văn bản chỉ đạo mã '{ref.directive}' trong hệ thống hay trong các tệp đang nạp"
                issues.append(doc.issue(("implements", i, "directive"), msg))
    return issues


def load_inputs(
    paths: Iterable[str | Path],
    base: Registry | None = None,
    known_implements: dict[str, tuple[str, ...]] | None = None,
    known_policies: Iterable[str] | None = None,
    *,
    max_bytes: int = MAX_BYTES,
) -> Bundle:
    """Read and validate files; raise :class:`InputError` with every issue, or return a Bundle.

    ``base``, ``known_implements`` and ``known_policies`` are what the store already holds: the
    files are checked against them together with each other.
    """
    read = _read(paths, max_bytes)
    issues = read.issues
    reg, found = registry_from(read.files["registry"], base or Registry())
    issues += found
    issues += _check_directive_codes(read, reg, known_implements or {})
    issues += _check_policies(read, reg, known_policies or ())
    for doc in read.partial:
        issues += check_fragments(doc, reg)
    issues += implements_cycles(read.files["directive"], known_implements or {})
    if issues:
        raise InputError(issues)
    return Bundle(
        reg,
        read.files["registry"],
        read.files["directive"],
        read.files["policy"],
    )
