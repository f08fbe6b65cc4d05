"""Fuzzing the loader: whatever a coordinator saves, ``load`` succeeds or raises ``InputError``.

A store that already holds the valid fixtures is fed arbitrary text, mangled copies of the valid
fixtures, and the valid directive with one field set to a value of a random type. The only allowed
outcomes are success and :class:`InputError`; every issue is located (line, column >= 0) and has a
message; and a rejected file leaves the SQLite file byte-for-byte unchanged.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kttt_workflow.errors import InputError
from kttt_workflow.service import Tracker
from tests.helpers import HORIZON, PLAN, PLAN_PATH, UNITS, UNITS_PATH, sqlite_digest

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def loaded(sqlite_store: Tracker) -> Tracker:
    sqlite_store.load([UNITS_PATH, PLAN_PATH], until=HORIZON)
    return sqlite_store


def _digest(store: Tracker) -> str:
    return sqlite_digest(store)


def load_or_input_error(store: Tracker, path: Path, content: bytes) -> InputError | None:
    """Write ``content`` to ``path`` and load it; anything but success or InputError propagates.

    Issues are located in the file loaded, or in a file loaded before whose directive the new
    one clashes with (the same code for another document: both places are named)."""
    path.write_bytes(content)
    located = {str(path), str(PLAN_PATH)}
    before = _digest(store)
    try:
        store.load([path], until=HORIZON)
    except InputError as exc:
        assert exc.issues, "InputError without issues"
        for issue in exc.issues:
            assert issue.file in located, issue
            assert issue.line >= 0 and issue.column >= 0, issue
            assert isinstance(issue.message, str) and issue.message.strip(), issue
        assert _digest(store) == before, "a rejected file changed the database"
        return exc
    return None


# --------------------------------------------------------------------------------------------------
# Arbitrary text
# --------------------------------------------------------------------------------------------------
@FUZZ
@given(st.text())
def test_arbitrary_text(loaded: Tracker, tmp_path: Path, content: str) -> None:
    load_or_input_error(loaded, tmp_path / "fuzz.yaml", content.encode("utf-8"))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(loaded: Tracker, tmp_path: Path, content: bytes) -> None:
    load_or_input_error(loaded, tmp_path / "fuzz.yaml", content)


# --------------------------------------------------------------------------------------------------
# YAML-ish text: fragments of the valid fixtures with random deletions, insertions and swaps
# --------------------------------------------------------------------------------------------------
TOKENS = [
    ":",
    ": ",
    "- ",
    "  ",
    "    ",
    "\t",
    "\n",
    "\r\n",
    '"',
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "&a ",
    "*a",
    "&b [*b]",
    "!!python/object/apply:os.system [true]",
    "!!str ",
    "!!binary ",
    "!!int ",
    "!!timestamp ",
    "!foo ",
    "|",
    ">",
    "---\n",
    "...\n",
    "? ",
    "<<: ",
    "<<: *a",
    "~",
    "null",
    "true",
    "0x1F",
    "0o17",
    "1e400",
    ".inf",
    ".nan",
    "-0",
    "2022-02-31",
    "2022-10-03",
    "31/02/2022",
    "Quý V/2013",
    "tháng 13/2022",
    "trước ngày 1",
    "x-so-tc",
    "x-cac-so",
    "UBND các huyện",
    "lead: ",
    "id: ",
    'id: "1"',
    "children:\n",
    "note: ",
    "kind: registry\n",
    "kind: directive\n",
    "\ufeff",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "\r",
    "é",
    "ệ",
    "\u0301",
    "Đ",
    "\\0",
    '"\\0"',
    "\\x00",
    "9" * 50,
    "&x",
    "*x",
]


@st.composite
def yamlish(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from([PLAN, UNITS]))
    lines = source.splitlines(keepends=True)
    if draw(st.booleans()):  # a fragment: the first line (kind) and a run of lines
        i = draw(st.integers(1, len(lines) - 1))
        j = draw(st.integers(i, len(lines)))
        text = "".join(lines[:1] + lines[i:j])
    else:
        text = source
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "swap", "dup-line", "drop-line", "replace"]))
        n = len(text)
        if op == "delete" and n:
            i = draw(st.integers(0, n - 1))
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        elif op == "insert":
            i = draw(st.integers(0, n))
            piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)))
            text = text[:i] + piece + text[i:]
        elif op == "swap" and n >= 2:
            i = draw(st.integers(0, n - 2))
            j = draw(st.integers(i + 1, min(n - 1, i + 40)))
            text = text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :]
        elif op in ("dup-line", "drop-line"):
            ls = text.splitlines(keepends=True)
            if ls:
                k = draw(st.integers(0, len(ls) - 1))
                ls[k : k + 1] = [ls[k], ls[k]] if op == "dup-line" else []
                text = "".join(ls)
        elif op == "replace" and n:
            i = draw(st.integers(0, n - 1))
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i + 1 :]
    return text


@FUZZ
@given(yamlish())
def test_mangled_fixtures(loaded: Tracker, tmp_path: Path, content: str) -> None:
    load_or_input_error(loaded, tmp_path / "fuzz.yaml", content.encode("utf-8"))


# --------------------------------------------------------------------------------------------------
# One field of the valid directive set to a random value of a random type
# --------------------------------------------------------------------------------------------------
PLAN_DATA = yaml.safe_load(PLAN)
UNITS_DATA = yaml.safe_load(UNITS)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


PLAN_PATHS = _paths(PLAN_DATA)
UNITS_PATHS = _paths(UNITS_DATA)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
    st.sampled_from(
        [
            "",
            " ",
            "x-ubnd",
            "x-cac-so",
            "x-so-tc, x-so-khdt",
            "UBND các huyện",
            "kh-1-2022",
            "1",
            "1.1",
            "Quý IV/2022",
            "Quý V/2022",
            "trong tháng 10/2022",
            "Hàng năm",
            "Thường xuyên",
            "2022-02-31",
            "9999-12-31",
            "0001-01-01",
            "67/KH-UBND",
            "abc",
            "plan",
            "directive",
            "registry",
            "immediate",
            "on_parent_done",
            "a\x00b",
            "\u0301",
            "x" * 300,
        ]
    ),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=10), SCALARS, max_size=4),
    st.dictionaries(
        st.sampled_from(["id", "title", "lead", "code", "symbol", "deadline", "children"]),
        SCALARS,
        max_size=4,
    ),
)


def _mutate(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@FUZZ
@given(st.sampled_from(PLAN_PATHS), VALUES, st.booleans())
def test_one_directive_field_with_a_random_value(
    loaded: Tracker, tmp_path: Path, path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    data = _mutate(PLAN_DATA, path, value, delete)
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    load_or_input_error(loaded, tmp_path / "fuzz.yaml", dumped.encode("utf-8"))


@settings(FUZZ, max_examples=60)
@given(st.sampled_from(UNITS_PATHS), VALUES, st.booleans())
def test_one_registry_field_with_a_random_value(
    loaded: Tracker, tmp_path: Path, path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    data = _mutate(UNITS_DATA, path, value, delete)
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    load_or_input_error(loaded, tmp_path / "fuzz.yaml", dumped.encode("utf-8"))
