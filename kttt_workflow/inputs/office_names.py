"""Names of bodies as plans write them, matched to the codes of the unit registry.

A cell of a plan's table names bodies the way the plan's authors wrote them: "Sở KH&ĐT", "UBND
huyện, thành phố", "Sở Nội vụ" (the registry says "Sở Nội vụ tỉnh Tuyên Quang"), "Uỷ ban" with the
old tone placement. :class:`Matcher` finds the one registry code such a name stands for, in tiers:

1. the registry's own lookup (:meth:`Registry.candidates`: code, name or alias, NFC and case
   folded);
2. the folded key (:func:`fold`): case, punctuation, the old and new tone placement ("Uỷ"/"Ủy",
   "khoá"/"khóa") and the abbreviations of :data:`ABBREVIATIONS` folded, "&" read as "và";
3. the folded key of registry names with the document's place removed ("Sở Nội vụ tỉnh Tuyên
   Quang" is "Sở Nội vụ" in a Tuyên Quang plan): "của tỉnh X", "tỉnh X" or "X", where X is the
   place of the document's date line or heading;
4. the same with any place the registry names ("tỉnh X", "thành phố X" at the end of a name), when
   the document's place is unknown; only a single candidate counts.

The first tier that finds candidates decides: one candidate is the answer, several are an
ambiguity (listed, never guessed); when several units carry the name, those valid on the
document's date are kept.

:func:`split_bodies` reads a cell naming several bodies ("Sở Kế hoạch và Đầu tư, Sở Tài chính và
các ngành liên quan"): the longest run of pieces that names one registry entry is taken first, so
that "Sở Lao động, Thương binh và Xã hội" stays one body. Pieces that name no registry entry are
kept as written, each run starting at a capitalised body word or at "các"; a run saying "… liên
quan" (the relevant bodies, unnamed) is *vague*: it becomes ``coordinating_other``.

Pure: no file, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches

from kttt_workflow.domain.registry import Registry
from kttt_workflow.domain.text import nfc

# Abbreviations as Vietnamese administrative texts write them, and what they stand for. Matching
# folds both sides the same way, so "Sở KH&ĐT", "Sở KH và ĐT", "Sở KHĐT" and "Sở Kế hoạch và Đầu
# tư" are one name. docs/import.md lists this table (a test checks that it lists every entry).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("UBND", "Ủy ban nhân dân"),
    ("HĐND", "Hội đồng nhân dân"),
    ("UBMTTQ", "Ủy ban Mặt trận Tổ quốc"),
    ("MTTQ", "Mặt trận Tổ quốc"),
    ("KH&ĐT", "Kế hoạch và Đầu tư"),
    ("KHĐT", "Kế hoạch và Đầu tư"),
    ("TN&MT", "Tài nguyên và Môi trường"),
    ("TNMT", "Tài nguyên và Môi trường"),
    ("NN&PTNT", "Nông nghiệp và Phát triển nông thôn"),
    ("NNPTNT", "Nông nghiệp và Phát triển nông thôn"),
    ("LĐ-TB&XH", "Lao động, Thương binh và Xã hội"),
    ("LĐTB&XH", "Lao động, Thương binh và Xã hội"),
    ("LĐTBXH", "Lao động, Thương binh và Xã hội"),
    ("TT&TT", "Thông tin và Truyền thông"),
    ("TTTT", "Thông tin và Truyền thông"),
    ("GD&ĐT", "Giáo dục và Đào tạo"),
    ("GDĐT", "Giáo dục và Đào tạo"),
    ("VH,TT&DL", "Văn hóa, Thể thao và Du lịch"),
    ("VHTTDL", "Văn hóa, Thể thao và Du lịch"),
    ("KH&CN", "Khoa học và Công nghệ"),
    ("KHCN", "Khoa học và Công nghệ"),
    ("GTVT", "Giao thông vận tải"),
    ("XD", "Xây dựng"),
    ("PT-TH", "Phát thanh và Truyền hình"),
    ("PTTH", "Phát thanh và Truyền hình"),
    ("LMHTX", "Liên minh Hợp tác xã"),
    ("HTX", "Hợp tác xã"),
    ("BTV", "Ban Thường vụ"),
    ("BCH", "Ban Chấp hành"),
    ("BQL", "Ban Quản lý"),
    ("CHQS", "Chỉ huy Quân sự"),
    ("BĐBP", "Bộ đội Biên phòng"),
    ("NHNN", "Ngân hàng Nhà nước"),
    ("KBNN", "Kho bạc Nhà nước"),
    ("BHXH", "Bảo hiểm xã hội"),
    ("VP", "Văn phòng"),
    ("TW", "Trung ương"),
    ("TP", "thành phố"),
    ("TX", "thị xã"),
)

# Words a body's name starts with (folded). They tell a list of bodies from other text when the
# registry does not know a name (the flattened text form), and where an unknown name begins.
_BODY_WORDS: tuple[tuple[str, ...], ...] = tuple(
    tuple(w.split())
    for w in (
        "sở",
        "ban",
        "ủy ban",
        "hội đồng",
        "liên minh",
        "liên đoàn",
        "trường",
        "trung tâm",
        "báo",
        "đài",
        "bộ",
        "cục",
        "chi cục",
        "chi nhánh",
        "phòng",
        "văn phòng",
        "kho bạc",
        "ngân hàng",
        "bảo hiểm xã hội",
        "công an",
        "mặt trận",
        "đoàn",
        "tỉnh đoàn",
        "tỉnh ủy",
        "huyện ủy",
        "thành ủy",
        "đảng ủy",
        "đảng đoàn",
        "viện",
        "thanh tra",
        "tòa án",
        "hiệp hội",
        "hội nông dân",
        "hội liên hiệp",
        "hội cựu chiến binh",
        "chính phủ",
        "thủ tướng",
        "các sở",
        "các ban",
        "các ngành",
        "các cơ quan",
        "các đơn vị",
        "các tổ chức",
        "các trường",
        "các huyện",
        "các địa phương",
        "các hội",
        "các đoàn thể",
        "các cấp",
    )
)
_VAGUE = ("liên", "quan")  # "… liên quan": the relevant bodies, not named

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook, dot below
# Old tone placement on the second vowel of a final "oa", "oe", "uy" ("hoá", "khoẻ", "uỷ"); the
# new one puts it on the first ("hóa", "khỏe", "ủy"). Read on the decomposed text; "quý" is
# left alone (there "qu" is the consonant).
_OLD_TONE = re.compile(rf"(?<!q)([ou])([aey])([{_TONES}])(?![\w\u0300-\u036f])")
_NOT_WORD = re.compile(r"[^\w]+")


def _new_tone_placement(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _OLD_TONE.sub(r"\1\3\2", decomposed))


def _tokens(text: str) -> list[str]:
    t = _new_tone_placement(nfc(text).casefold().replace("ð", "đ")).replace("&", " và ")
    return _NOT_WORD.sub(" ", t).replace("_", " ").split()


_EXPANSIONS: dict[tuple[str, ...], tuple[str, ...]] = {
    tuple(_tokens(short)): tuple(_tokens(long)) for short, long in ABBREVIATIONS
}
_LONGEST = max(len(k) for k in _EXPANSIONS)


def fold(text: str) -> tuple[str, ...]:
    """The lookup key of a name: folded words, abbreviations expanded.

    >>> fold("Sở KH&ĐT") == fold("Sở Kế hoạch và Đầu tư")
    True
    >>> fold("Uỷ ban nhân dân tỉnh (khoá XV)") == fold("UBND Tỉnh - khóa xv")
    True
    """
    words = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            long = _EXPANSIONS.get(tuple(words[i : i + n]))
            if long is not None:
                out.extend(long)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return tuple(out)


def _find(seq: Sequence[str], sub: Sequence[str]) -> list[int]:
    n = len(sub)
    return [i for i in range(len(seq) - n + 1) if tuple(seq[i : i + n]) == tuple(sub)]


def is_vague(text: str) -> bool:
    """Whether ``text`` names unnamed relevant bodies ("các ngành liên quan")."""
    return bool(_find(fold(text), _VAGUE))


def looks_like_body(text: str) -> bool:
    """Whether ``text`` starts like the name of a body ("Sở …", "UBND …", "Các ngành …")."""
    key = fold(text)
    if key[:2] in (("hội", "nghị"), ("hội", "thảo"), ("hội", "thi")):
        return False
    return any(key[: len(w)] == w for w in _BODY_WORDS) or key[:1] == ("hội",)


def _places_of(name: str) -> list[tuple[str, ...]]:
    """Places a registry name ends with: "… tỉnh Tuyên Quang", "… thành phố Cần Thơ"."""
    key = fold(name)
    found = []
    for i, w in enumerate(key):
        rest = key[i + 1 :]
        if w == "tỉnh" and 1 <= len(rest) <= 3:
            found.append(tuple(rest))
        if w == "phố" and i > 0 and key[i - 1] == "thành" and 1 <= len(rest) <= 3:
            found.append(tuple(rest))
    return found


def _without(key: tuple[str, ...], place: tuple[str, ...]) -> set[tuple[str, ...]]:
    """``key`` with ``place`` removed: alone, with "tỉnh" before it, or with "của tỉnh"."""
    out: set[tuple[str, ...]] = set()
    n = len(place)
    for i in _find(key, place):
        out.add(key[:i] + key[i + n :])
        if i >= 1 and key[i - 1] == "tỉnh":
            out.add(key[: i - 1] + key[i + n :])
            if i >= 2 and key[i - 2] == "của":
                out.add(key[: i - 2] + key[i + n :])
    out.discard(())
    return out


@dataclass(frozen=True)
class Match:
    """What a name stands for: one code, or the candidates of an ambiguous name, or nothing."""

    text: str
    code: str | None = None
    candidates: tuple[str, ...] = ()
    close: tuple[str, ...] = ()  # "code (name)" of registry entries like it, when none matched

    @property
    def ambiguous(self) -> bool:
        return self.code is None and len(self.candidates) > 1


@dataclass
class Matcher:
    """Registry lookups for one document (its date and its place)."""

    registry: Registry
    on: date | None = None
    place: str | None = None
    _tiers: list[dict[tuple[str, ...], list[str]]] = field(default_factory=list)
    _names: dict[str, str] = field(default_factory=dict)  # folded name (place or not) → shown

    def __post_init__(self) -> None:
        folded: dict[tuple[str, ...], list[str]] = {}
        here: dict[tuple[str, ...], list[str]] = {}
        elsewhere: dict[tuple[str, ...], list[str]] = {}
        mine = fold(self.place) if self.place else ()
        named = [
            *((c, (u.name, *u.aliases)) for c, u in self.registry.units.items()),
            *((c, (g.name, *g.aliases)) for c, g in self.registry.groups.items()),
        ]
        places = {p for _, names in named for n in names for p in _places_of(n)}
        if mine:
            places.add(mine)
        for code, names in named:
            for n in names:
                key = fold(n)
                shown = f"{code} ({n})"
                self._names.setdefault(" ".join(key), shown)
                _add(folded, key, code)
                if mine:
                    for k in _without(key, mine):
                        _add(here, k, code)
                        self._names.setdefault(" ".join(k), shown)
                for p in places:
                    if p != mine:
                        for k in _without(key, p):
                            _add(elsewhere, k, code)
        self._tiers = [folded, here, elsewhere]

    def match(self, text: str, *, suggest: bool = False) -> Match:
        """The registry code ``text`` names (see the module's docstring for the tiers); with
        ``suggest``, registry names that look like an unknown ``text``."""
        text = " ".join(text.split())
        if not text:
            return Match(text)
        found = self.registry.candidates(text, on=self.on)
        if not found:
            key = fold(text)
            for tier in self._tiers:
                found = list(tier.get(key, ()))
                if found:
                    break
        found = self._valid(found)
        if len(found) == 1:
            return Match(text, found[0], tuple(found))
        if found:
            return Match(text, None, tuple(found))
        if not suggest:
            return Match(text)
        close = get_close_matches(" ".join(fold(text)), list(self._names), n=6, cutoff=0.75)
        return Match(text, close=tuple(unique(self._names[c] for c in close))[:3])

    def _valid(self, codes: list[str]) -> list[str]:
        if len(codes) <= 1 or self.on is None:
            return codes
        on = self.on
        valid = [
            c for c in codes if c not in self.registry.units or self.registry.units[c].valid_on(on)
        ]
        return valid or codes

    def describe(self, code: str) -> str:
        """The registry name of a code, for comments and the report."""
        if code in self.registry.units:
            return self.registry.units[code].name
        if code in self.registry.groups:
            return self.registry.groups[code].name
        return code


def _add(index: dict[tuple[str, ...], list[str]], key: tuple[str, ...], code: str) -> None:
    codes = index.setdefault(key, [])
    if code not in codes:
        codes.append(code)


# --------------------------------------------------------------------------------------------------
# Cells that name several bodies
# --------------------------------------------------------------------------------------------------
_SEPARATOR = re.compile(r"(\s*[,;\n]\s*|\s+(?:và|cùng)\s+)", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    """One body a cell names: resolved to a code, vague ("các ngành liên quan"), ambiguous
    (several candidates) or unknown; ``text`` as the cell writes it."""

    text: str
    kind: str  # "unit" | "vague" | "ambiguous" | "unknown"
    code: str | None = None
    candidates: tuple[str, ...] = ()
    close: tuple[str, ...] = ()


def split_bodies(text: str, matcher: Matcher | None, *, lead: bool = False) -> list[Part]:
    """The bodies a cell names, in order (see the module's docstring).

    For a coordinating cell (``lead=False``) a semicolon always separates bodies and a run that
    says "liên quan" is never matched to a registry group ("Các sở, ban, ngành liên quan" there
    means the relevant ones, kept as written in ``coordinating_other``); a lead cell is matched
    whole first by the caller.
    """
    segments = [text] if lead else [s for s in re.split(r"\s*;\s*", text)]
    parts: list[Part] = []
    for seg in segments:
        parts.extend(_split_segment(seg, matcher, lead))
    return parts


def _split_segment(seg: str, matcher: Matcher | None, lead: bool) -> list[Part]:
    chunks = _SEPARATOR.split(seg.strip())
    pieces = chunks[0::2]
    seps = chunks[1::2]

    def span(i: int, j: int) -> str:
        out = pieces[i]
        for k in range(i, j):
            out += seps[k] + pieces[k + 1]
        return out.strip()

    parts: list[Part] = []
    pending: list[int] = []  # indexes of pieces not matched yet

    def flush() -> None:
        if not pending:
            return
        runs: list[list[int]] = []
        for k in pending:
            starts = not runs or _starts_body(pieces[k]) or k != runs[-1][-1] + 1
            if starts:
                runs.append([k])
            else:
                runs[-1].append(k)
        for run in runs:
            t = span(run[0], run[-1])
            if not t:
                continue
            if not lead and is_vague(t):
                parts.append(Part(t, "vague"))
                continue
            m = matcher.match(t, suggest=True) if matcher is not None else Match(t)
            if m.code is not None:
                parts.append(Part(t, "unit", m.code))
            elif m.ambiguous:
                parts.append(Part(t, "ambiguous", candidates=m.candidates))
            else:
                parts.append(Part(t, "unknown", close=m.close))
        pending.clear()

    i, n = 0, len(pieces)
    while i < n:
        if not pieces[i].strip():
            i += 1
            continue
        hit: tuple[int, Match] | None = None
        if matcher is not None:
            for j in range(n - 1, i - 1, -1):
                t = span(i, j)
                if not lead and is_vague(t):
                    continue
                m = matcher.match(t)
                if m.code is not None or (m.ambiguous and j == i):
                    hit = (j, m)
                    break
        if hit is None or hit[1].code is None:
            if hit is not None and hit[1].ambiguous:
                flush()
                parts.append(Part(span(i, i), "ambiguous", candidates=hit[1].candidates))
            else:
                pending.append(i)
            i += 1
            continue
        flush()
        j, m = hit
        parts.append(Part(span(i, j), "unit", m.code))
        i = j + 1
    flush()
    return parts


def _starts_body(piece: str) -> bool:
    p = piece.strip()
    return bool(p) and (p[:1].isupper() or p.casefold().startswith("các ")) and looks_like_body(p)


def unique(codes: Iterable[str]) -> list[str]:
    """Codes in order, each once."""
    seen: set[str] = set()
    return [c for c in codes if not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]
