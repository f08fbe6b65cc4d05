"""The JSON Schema and the loader accept the same data, field by field.

For each kind of file (registry, directive, policy) a valid document uses every field. Hypothesis
sets one field (or removes it, or adds an unknown key) to a value of any type: text of any
characters, blank text, ``"yes"``, ``"true"``, ``"="``, dates real and impossible, numbers whole
and not, booleans, null, lists, mappings. The document is written as YAML (every text quoted, so
that its type is what the test chose), read by the loader (``parse_yaml`` then the file's model:
what ``kttt validate`` does before the meaning checks) and checked with ``jsonschema`` against
the schema ``kttt schema`` exports, formats included. Both must accept or both reject, and what the
loader accepts must be the data that was written.

The examples after the property pin the decisions where the two used to disagree.
"""

from __future__ import annotations

import copy
import math
import unicodedata
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from kttt_workflow.domain.directive import DirectiveFile, PolicyFile, RegistryFile
from kttt_workflow.inputs.reader import parse_yaml
from kttt_workflow.inputs.schema import schema_of

MODELS: dict[str, type[BaseModel]] = {
    "registry": RegistryFile,
    "directive": DirectiveFile,
    "policy": PolicyFile,
}
VALIDATORS = {
    kind: Draft202012Validator(schema_of(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for kind in MODELS
}

STEP = {
    "code": "nhac-7",
    "offset": -7,
    "days": "working",
    "severity": "upcoming",
    "to": ["lead"],
    "cc": ["coordinators"],
}
VALID: dict[str, dict[str, Any]] = {
    "registry": {
        "kind": "registry",
        "levels": [{"code": "tinh", "name": "Cấp tỉnh"}],
        "units": [
            {
                "code": "x-ubnd",
                "name": "Ủy ban nhân dân tỉnh X",
                "aliases": ["UBND tỉnh X"],
                "level": "tinh",
                "parent": "chinh-phu",
                "targets": ["mailto://vanthu@x.gov.vn"],
                "valid_from": "2020-01-01",
                "valid_to": "2025-06-30",
                "successor": "y-ubnd",
                "note": "sáp nhập",
            }
        ],
        "groups": [
            {
                "code": "x-cac-so",
                "name": "Các sở",
                "aliases": ["các sở, ngành"],
                "members": ["x-ubnd"],
                "note": "n",
            }
        ],
        "note": "n",
    },
    "directive": {
        "kind": "directive",
        "code": "kh-1-2022",
        "document": {
            "type": "plan",
            "symbol": "1/KH-UBND",
            "date": "2022-10-03",
            "issuer": "x-ubnd",
            "title": "Kế hoạch thử nghiệm",
            "signer": "Nguyễn Văn A",
            "note": "n",
        },
        "implements": [
            {
                "type": "resolution",
                "symbol": "20-NQ/TW",
                "date": "2022-06-16",
                "issuer": "Ban Chấp hành Trung ương",
                "title": "Nghị quyết",
                "directive": "nq-20-2022",
            }
        ],
        "focal_unit": "x-so-khdt",
        "roll_to_working_day": True,
        "recurrence_from": "2022-10-03",
        "recurrence_until": "2024-12-31",
        "escalation": "mac-dinh",
        "groups": [{"code": "g-1", "name": "Nhóm 1", "members": ["x-ubnd"]}],
        "tasks": [
            {
                "id": "I.1",
                "title": "Tuyên truyền",
                "lead": "x-ubnd",
                "coordinating": ["x-so-khdt"],
                "coordinating_other": "các ngành liên quan",
                "deliverable": "Hội nghị",
                "deadline": "Quý IV/2022",
                "issuing_authority": "x-ubnd",
                "key": False,
                "activation": "immediate",
                "escalation": {"name": "gấp", "steps": [dict(STEP)]},
                "note": "n",
                "source": "mục I.1",
                "children": [{"id": "I.1.a", "title": "Con", "lead": "x-ubnd"}],
            }
        ],
        "note": "n",
    },
    "policy": {
        "kind": "policy",
        "code": "gap",
        "name": "Nhắc gấp",
        "steps": [dict(STEP)],
        "note": "n",
    },
}


def leaf_paths(value: Any, base: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place a value sits in ``value`` (containers themselves included)."""
    out = [base] if base else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += leaf_paths(v, (*base, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += leaf_paths(v, (*base, i))
    return out


PATHS = {kind: [p for p in leaf_paths(doc) if p != ("kind",)] for kind, doc in VALID.items()}
# The directive's child task and inline steps are the models of its task and of the policy's
# steps again: the exhaustive sweep below visits them once, through those.
REPEATED = (("tasks", 0, "children", 0), ("tasks", 0, "escalation", "steps", 0))
SWEEP = {
    kind: [p for p in paths if not any(p[: len(r)] == r and p != r for r in REPEATED)]
    for kind, paths in PATHS.items()
}


# --------------------------------------------------------------------------------------------------
# Writing the data as YAML, every text double-quoted (its type is then the test's choice)
# --------------------------------------------------------------------------------------------------
class QuotedDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


QuotedDumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style='"')
)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=QuotedDumper, allow_unicode=True, sort_keys=False, width=70)


def same(a: Any, b: Any) -> bool:
    """Equal data, NaN equal to itself, and a bool never equal to a number."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def loader_accepts(kind: str, data: dict[str, Any]) -> tuple[bool, str]:
    text = to_yaml(data)
    doc, issues = parse_yaml(text, "p.yaml")
    if doc is None:
        return False, "; ".join(str(i) for i in issues)
    assert same(doc.data, data), f"the reader changed the data:\n{text}\n{doc.data!r}"
    try:
        MODELS[kind].model_validate(doc.data)
    except ValidationError as exc:
        return False, str(exc)
    return True, ""


def schema_accepts(kind: str, data: dict[str, Any]) -> tuple[bool, str]:
    errors = list(VALIDATORS[kind].iter_errors(data))
    return not errors, "; ".join(f"{list(e.path)}: {e.message}"[:300] for e in errors)


def agree(kind: str, data: dict[str, Any]) -> bool:
    """Assert that the schema and the loader agree on ``data``; return whether both accept it."""
    by_schema, why_schema = schema_accepts(kind, data)
    by_loader, why_loader = loader_accepts(kind, data)
    assert by_schema == by_loader, (
        f"schema {'accepts' if by_schema else 'rejects'}, loader "
        f"{'accepts' if by_loader else 'rejects'}:\n{to_yaml(data)}\n"
        f"schema: {why_schema}\nloader: {why_loader}"
    )
    return by_loader


def put(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def remove(data: dict[str, Any], path: tuple[Any, ...]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict):
        del node[path[-1]]
    else:
        node.pop(path[-1])


# --------------------------------------------------------------------------------------------------
# Values of every type the fields can be given
# --------------------------------------------------------------------------------------------------
def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


SPECIAL = [
    "",
    " ",
    "\t\n",
    "\u3000",
    "\u00a0x\u00a0",
    "\x1c",
    "\ufeff",
    "\x85",
    "\u2028",
    "x\x00",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "True",
    "false",
    "null",
    "=",
    "<<",
    "12:30",
    "1_000",
    "3",
    "-7",
    "3.0",
    "kh-1-2022",
    "kh-1-2022\n",
    " kh-1-2022",
    "KH-1",
    "-a",
    "a-",
    "a" * 64,
    "a" * 65,
    "I.1",
    "I.1.",
    ".I",
    "I" * 32,
    "I" * 33,
    "2022-10-03",
    "2022-02-31",
    "2022-02-29",
    "2024-02-29",
    "20221003",
    "2022-10-03T00:00:00",
    "2022-10-03 ",
    "0000-01-01",
    "plan",
    " plan",
    "PLAN",
    "working",
    "calendar",
    "upcoming",
    "immediate",
    "on_parent_done",
    "lead",
    "1/KH-UBND",
    " 1/KH-UBND ",
    "x" * 65,
    " " + "x" * 64,
]
texts = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40).map(nfc),
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.from_regex(r"[a-z0-9-]{1,70}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9.]{1,34}", fullmatch=True),
)
scalars = st.one_of(
    texts,
    st.none(),
    st.booleans(),
    st.integers(min_value=-400, max_value=4000),
    st.integers(),
    st.floats(),
    st.sampled_from([3.0, -7.0, 3.5, 1e300, -0.0]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["code", "name", "steps", "x", "offset"]), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
CONTRACT = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", list(MODELS))
def test_the_valid_documents_are_valid_for_both(kind: str) -> None:
    """The starting points of the property: accepted by the schema and by the loader."""
    assert agree(kind, copy.deepcopy(VALID[kind]))


EDGE_VALUES: list[Any] = [
    *SPECIAL,
    None,
    True,
    False,
    0,
    1,
    -7,
    3650,
    3651,
    -365,
    -366,
    3.0,
    3.5,
    math.inf,
    math.nan,
    [],
    [""],
    ["x-ubnd"],
    ["x-ubnd", "x-ubnd"],
    {},
    {"steps": [dict(STEP)]},
    {"steps": []},
]


@pytest.mark.parametrize("kind", list(MODELS))
def test_schema_and_loader_agree_on_every_edge_value_of_every_field(kind: str) -> None:
    """Every field, every value of the list above: the cases where a loader and a schema usually
    part (blank text, YAML 1.1 words, quoted booleans and numbers, loose dates, codes with white
    space, lengths at the limit), tried exhaustively."""
    accepted = rejected = 0
    for path in SWEEP[kind]:
        for value in EDGE_VALUES:
            doc = copy.deepcopy(VALID[kind])
            put(doc, path, copy.deepcopy(value))
            if agree(kind, doc):
                accepted += 1
            else:
                rejected += 1
    assert accepted and rejected  # both outcomes were exercised


@pytest.mark.parametrize("kind", list(MODELS))
@CONTRACT
@given(data=st.data())
def test_schema_and_loader_agree_on_any_value_of_any_field(kind: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(VALID[kind])
    path = data.draw(st.sampled_from(PATHS[kind]), label="path")
    put(doc, path, data.draw(values, label="value"))
    agree(kind, doc)


@pytest.mark.parametrize("kind", list(MODELS))
@CONTRACT
@given(data=st.data())
def test_schema_and_loader_agree_on_a_missing_or_unknown_field(
    kind: str, data: st.DataObject
) -> None:
    doc = copy.deepcopy(VALID[kind])
    path = data.draw(st.sampled_from(PATHS[kind]), label="path")
    if data.draw(st.booleans(), label="remove"):
        remove(doc, path)
    else:
        parent = path[:-1]
        node: Any = doc
        for part in parent:
            node = node[part]
        target = node if isinstance(node, dict) else doc
        key = data.draw(st.text(min_size=1, max_size=10).map(nfc), label="key")
        target.setdefault(key, data.draw(scalars, label="value"))
    agree(kind, doc)


# --------------------------------------------------------------------------------------------------
# The decisions, one example each (the loader's message for each is in
# tests/integration/test_reader_defects.py)
# --------------------------------------------------------------------------------------------------
DECISIONS = [
    # (kind, path, value, accepted)
    pytest.param("directive", ("recurrence_from",), "2020-06-30", True, id="recurrence_from"),
    pytest.param("directive", ("escalation",), {"steps": [dict(STEP)]}, True, id="escalation"),
    pytest.param("directive", ("tasks", 0, "title"), "   ", False, id="blank-title"),
    pytest.param("directive", ("tasks", 0, "title"), "\u3000", False, id="ideographic-space"),
    pytest.param("directive", ("tasks", 0, "title"), "=", True, id="title-equals-sign"),
    pytest.param("directive", ("tasks", 0, "title"), "Yes", True, id="title-yes-is-text"),
    pytest.param("directive", ("tasks", 0, "key"), "true", False, id="key-quoted-true"),
    pytest.param("directive", ("tasks", 0, "key"), "yes", False, id="key-yes"),
    pytest.param("directive", ("tasks", 0, "key"), 1, False, id="key-one"),
    pytest.param("directive", ("document", "date"), "20221003", False, id="date-basic-format"),
    pytest.param("directive", ("document", "date"), "2022-02-31", False, id="date-impossible"),
    pytest.param("directive", ("code",), "kh-1-2022\n", False, id="code-trailing-newline"),
    pytest.param("directive", ("code",), " kh-1-2022", False, id="code-leading-space"),
    pytest.param("directive", ("document", "symbol"), " " + "x" * 64, False, id="symbol-65"),
    pytest.param("policy", ("steps", 0, "offset"), "3", False, id="offset-quoted"),
    pytest.param("policy", ("steps", 0, "offset"), 3.0, True, id="offset-whole-float"),
    pytest.param("policy", ("steps", 0, "offset"), True, False, id="offset-true"),
    pytest.param("registry", ("units", 0, "name"), "x\x00", False, id="nul"),
]


@pytest.mark.parametrize(("kind", "path", "value", "accepted"), DECISIONS)
def test_decided_disagreements_now_agree(
    kind: str, path: tuple[Any, ...], value: Any, accepted: bool
) -> None:
    doc = copy.deepcopy(VALID[kind])
    put(doc, path, value)
    assert agree(kind, doc) is accepted


@pytest.mark.parametrize("kind", list(MODELS))
def test_the_schema_says_what_it_cannot_check(kind: str) -> None:
    """Anchors, merge keys and tags are YAML syntax: the schema's description names them."""
    description = str(schema_of(kind)["description"])
    for words in (
        "YAML 1.2",
        "yes, no, on, off",
        "(&, *)",
        "(<<:)",
        "thẻ YAML",
        "KTTT_MAX_INPUT_MB",
    ):
        assert words in description, description
    assert unicodedata.is_normalized("NFC", description)
