"""The declared directive: what a coordinator writes in YAML, as pydantic models (no I/O).

These models describe the *files* (a unit registry, a directive, an escalation policy); reading and
checking the files is :mod:`kttt_workflow.inputs`, and the stored tables live in
:mod:`kttt_workflow.store.tables`. ``model_json_schema()`` of :class:`RegistryFile`,
:class:`DirectiveFile` and :class:`PolicyFile` is exported to ``docs/schema/`` so editors can
complete and check the YAML; the field types are written so that the schema and these models
accept the same data (strict booleans and integers, dates only as ``YYYY-MM-DD``, patterns that
mean the same to Python and to ECMAScript).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from kttt_workflow.domain.registry import ContactInfo, GroupInfo, UnitInfo

# The patterns below are read by three regular-expression engines that must agree: Python's ``re``
# (pydantic, configured with ``regex_engine="python-re"``, and ``jsonschema`` in the tests) and
# ECMAScript's (editors reading the exported JSON Schema). So they avoid what the engines read
# differently: ``\s`` and ``\d`` (different character sets; the white space is spelled out) and a
# bare ``$`` at the end (Python's also matches before a final newline; ``$(?!\n)`` does not).
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)  # Unicode White_Space: what a blank value consists of, and what is stripped around values
_WS_CLASS = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = r"^[^\x00]*$"  # any text but NUL (PostgreSQL text cannot hold it)
NON_BLANK_PATTERN = rf"^[^\x00]*[^{_WS_CLASS}\x00][^\x00]*$"  # ... with something not blank
# A code is what users type on the command line and what task ids are built from.
CODE_PATTERN = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$(?!\n)"
# Task keys follow the document's numbering: "I.1", "IV.3", "III.2.a".
TASK_KEY_PATTERN = r"^[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*$(?!\n)"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _strip(value: str) -> str:
    return value.strip(WHITESPACE)


class NotADate(ValueError):
    """A date field holds something else than a real ``YYYY-MM-DD`` date."""


def _iso_date(value: Any) -> Any:
    """A date as the files write it, ``YYYY-MM-DD`` (a string, as the reader leaves it), and only
    that: no timestamp, no ``20131001``, no number of seconds (pydantic would accept those)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value  # built in Python (tests, benches), not read from a file
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise NotADate("a real date written YYYY-MM-DD is required")


def _whole_float(value: Any) -> Any:
    # 3.0 is an integer to JSON Schema (and to editors): accept it, as a strict int would not.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Code = Annotated[
    str, StringConstraints(strip_whitespace=False, pattern=CODE_PATTERN, max_length=64)
]
TaskKey = Annotated[
    str, StringConstraints(strip_whitespace=False, pattern=TASK_KEY_PATTERN, max_length=32)
]
# Free text (stripped of surrounding white space by the models' configuration); and text that
# must say something (checked on the value as written, then stripped).
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
NonEmpty = Annotated[
    str,
    StringConstraints(strip_whitespace=False, pattern=NON_BLANK_PATTERN),
    AfterValidator(_strip),
]
Symbol = Annotated[
    str,
    StringConstraints(strip_whitespace=False, pattern=NON_BLANK_PATTERN, max_length=64),
    AfterValidator(_strip),
]
# Booleans and numbers as YAML writes them: `true`, not "true" nor 1; 3, not "3" nor true.
Flag = Annotated[bool, Strict()]
Integer = Annotated[int, Strict(), BeforeValidator(_whole_float)]
Date = Annotated[dt.date, BeforeValidator(_iso_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, regex_engine="python-re"
    )


# --------------------------------------------------------------------------------------------------
# Unit registry
# --------------------------------------------------------------------------------------------------
class Level(_Strict):
    """A level of the hierarchy ("cấp"): data, not code (a 2026 province has no district level)."""

    code: Code
    name: NonEmpty = Field(description="Tên cấp, ví dụ: 'Cấp tỉnh', 'Cấp huyện'.")


class Contact(_Strict):
    """Whom a unit calls about a directive: the monitoring body (or its officer) and how to reach it."""

    name: NonEmpty | None = Field(
        default=None,
        description="Tên cơ quan hoặc cán bộ theo dõi, ví dụ 'Phòng Kinh tế tập thể, Sở Kế hoạch và "
        "Đầu tư'; để trống thì dùng tên đơn vị.",
    )
    phone: NonEmpty | None = Field(default=None, description="Số điện thoại liên hệ.")
    email: NonEmpty | None = Field(default=None, description="Địa chỉ thư điện tử liên hệ.")

    def info(self) -> ContactInfo:
        return ContactInfo(self.name, self.phone, self.email)


class Unit(_Strict):
    """One body that can lead or coordinate a task (sở, UBND huyện, ban, đoàn thể…)."""

    code: Code = Field(description="Mã đơn vị, duy nhất trong toàn hệ thống, ví dụ 'tq-so-noi-vu'.")
    name: NonEmpty = Field(description="Tên đầy đủ tiếng Việt.")
    aliases: list[NonEmpty] = Field(default_factory=list, description="Tên gọi khác, viết tắt.")
    level: Code = Field(description="Mã cấp (khai báo trong 'levels').")
    parent: Code | None = Field(default=None, description="Đơn vị cấp trên (để báo cáo cấp trên).")
    targets: list[NonEmpty] = Field(
        default_factory=list,
        description="Địa chỉ nhận thông báo (Apprise URL); bí mật lấy từ biến môi trường ${VAR}.",
    )
    valid_from: Date | None = None
    valid_to: Date | None = Field(default=None, description="Ngày cuối cùng đơn vị còn tồn tại.")
    successor: Code | None = Field(default=None, description="Đơn vị kế thừa sau sáp nhập.")
    contact: Contact | None = Field(
        default=None,
        description="Liên hệ của đơn vị khi là cơ quan theo dõi (ghi ở phần ký cuối bản nhắc việc).",
    )
    note: Text | None = None

    def info(self) -> UnitInfo:
        """The unit as the registry holds it."""
        return UnitInfo(
            self.code,
            self.name,
            self.level,
            self.parent,
            tuple(self.aliases),
            tuple(self.targets),
            self.valid_from,
            self.valid_to,
            self.successor,
            self.note,
            self.contact.info() if self.contact else None,
        )


class Group(_Strict):
    """A named set of units ("các sở, ban, ngành"); members may be units or other groups."""

    code: Code
    name: NonEmpty
    aliases: list[NonEmpty] = Field(default_factory=list)
    members: list[Code] = Field(min_length=1)
    note: Text | None = None

    def info(self) -> GroupInfo:
        """The group as the registry holds it."""
        return GroupInfo(self.code, self.name, tuple(self.members), tuple(self.aliases), self.note)


class RegistryFile(_Strict):
    """A unit registry file (``kind: registry``)."""

    kind: Literal["registry"]
    levels: list[Level] = Field(default_factory=list)
    units: list[Unit] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    note: Text | None = None


# --------------------------------------------------------------------------------------------------
# Directive
# --------------------------------------------------------------------------------------------------
class DocumentType(StrEnum):
    resolution = "resolution"  # Nghị quyết
    conclusion = "conclusion"  # Kết luận
    instruction = "instruction"  # Chỉ thị
    action_programme = "action_programme"  # Chương trình hành động
    plan = "plan"  # Kế hoạch
    decision = "decision"  # Quyết định
    official_letter = "official_letter"  # Công văn
    report = "report"  # Báo cáo
    law = "law"  # Luật
    decree = "decree"  # Nghị định


class Document(_Strict):
    """The document that issues the directive."""

    type: DocumentType
    symbol: Symbol | None = Field(
        default=None,
        description="Số, ký hiệu: '67/KH-UBND', '09/2009/QĐ-UBND', '20-NQ/TW'. "
        "Để trống khi văn bản nguồn không ghi (kèm 'note').",
    )
    date: Date | None = Field(default=None, description="Ngày ban hành (YYYY-MM-DD).")
    issuer: NonEmpty = Field(description="Cơ quan ban hành: mã đơn vị hoặc tên.")
    title: NonEmpty
    signer: Text | None = None
    note: Text | None = None


class DocumentRef(_Strict):
    """A document this directive implements ("căn cứ", "thực hiện")."""

    type: DocumentType | None = None
    symbol: NonEmpty
    date: Date | None = None
    issuer: NonEmpty | None = None
    title: Text | None = None
    directive: Code | None = Field(
        default=None, description="Mã chỉ đạo đã khai báo trong hệ thống, nếu có."
    )
    completes: list[TaskKey] = Field(
        default_factory=list,
        description="Mã nhiệm vụ của văn bản được thực hiện mà văn bản này hoàn thành, ví dụ "
        "['UBND.1']. Để trống: tự xác định nhiệm vụ ban hành văn bản mà cơ quan ban hành chủ trì.",
    )


# --------------------------------------------------------------------------------------------------
# Escalation policy
# --------------------------------------------------------------------------------------------------
class Severity(StrEnum):
    upcoming = "upcoming"  # sắp đến hạn
    due = "due"  # đến hạn
    overdue = "overdue"  # quá hạn
    escalated = "escalated"  # báo cáo cấp trên


class EscalationStep(_Strict):
    """One rung of the ladder: N days before (negative) or after (positive) the deadline."""

    code: Code = Field(description="Mã bước, ví dụ 'nhac-7', 'don-doc-3'.")
    offset: Integer = Field(
        ge=-365, le=3650, description="Số ngày so với hạn: -7 là trước 7 ngày, 3 là sau 3 ngày."
    )
    days: Literal["working", "calendar"] = Field(
        default="working", description="'working': ngày làm việc; 'calendar': ngày lịch."
    )
    severity: Severity
    to: list[NonEmpty] = Field(
        min_length=1,
        description="Người nhận: vai trò (lead, coordinators, lead_parent, lead_grandparent, "
        "issuer, focal) hoặc mã đơn vị.",
    )
    cc: list[NonEmpty] = Field(default_factory=list, description="Đồng gửi (để biết).")


class EscalationPolicy(_Strict):
    """A ladder of steps relative to the deadline."""

    name: Text | None = None
    steps: list[EscalationStep] = Field(min_length=1)


class PolicyFile(_Strict):
    """An escalation policy file (``kind: policy``) that directives refer to by code."""

    kind: Literal["policy"]
    code: Code
    name: NonEmpty
    steps: list[EscalationStep] = Field(min_length=1)
    note: Text | None = None


PolicyRef = Annotated[
    Code | EscalationPolicy,
    Field(
        description="Mã chính sách nhắc việc/đôn đốc (ví dụ 'mac-dinh') hoặc khai báo trực tiếp."
    ),
]


class Activation(StrEnum):
    immediate = "immediate"  # active as soon as loaded ("ngay")
    on_parent_done = "on_parent_done"  # active when the parent task is done


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("cần một số (ví dụ 1600 hoặc 65.5), không phải chữ")
    return value


# A quantity as YAML writes it: 1600 or 65.5, not "1600" nor true.
Quantity = Annotated[float, BeforeValidator(_number), Field(ge=0)]


class Target(_Strict):
    """A quantitative target of a task ("chỉ tiêu"): 1,600 cooperatives by 2030, a quota of new
    cooperatives split by district…"""

    indicator: NonEmpty = Field(description="Tên chỉ tiêu, ví dụ 'Số hợp tác xã thành lập mới'.")
    measure: NonEmpty = Field(description="Đơn vị tính: 'hợp tác xã', 'thành viên', '%'.")
    value: Quantity = Field(description="Giá trị chỉ tiêu (toàn bộ nhiệm vụ).")
    split: dict[Code, Quantity] = Field(
        default_factory=dict,
        description="Phân bổ chỉ tiêu cho từng đơn vị chủ trì (mã đơn vị: giá trị); tổng các phần "
        "phải bằng 'value', trừ khi ghi 'partial: true'.",
    )
    partial: Flag = Field(
        default=False, description="Phân bổ chưa đủ: tổng các phần có thể nhỏ hơn 'value'."
    )
    note: Text | None = None


class TaskSpec(_Strict):
    """One row of the assignment table: one lead (unit or group), its coordinators, a deadline."""

    id: TaskKey = Field(description="Số thứ tự theo văn bản: 'I.1', 'IV.3'.")
    title: NonEmpty = Field(description="Nội dung nhiệm vụ.")
    lead: NonEmpty = Field(description="Cơ quan chủ trì: đúng MỘT mã (hoặc tên) đơn vị hay nhóm.")
    coordinating: list[NonEmpty] = Field(
        default_factory=list, description="Cơ quan phối hợp: mã (hoặc tên) đơn vị, nhóm."
    )
    coordinating_other: Text | None = Field(
        default=None,
        description="Phần cơ quan phối hợp không xác định được, ví dụ 'các ngành liên quan'.",
    )
    deliverable: Text | None = Field(default=None, description="Sản phẩm, yêu cầu đạt được.")
    deadline: Text | None = Field(
        default=None,
        description="Thời hạn đúng như văn bản ghi: 'Quý IV/2013', 'Thường xuyên', 'Hàng năm'… "
        "Để trống (null) khi văn bản không ghi thời hạn.",
    )
    issuing_authority: NonEmpty | None = Field(
        default=None, description="Cơ quan quyết định ban hành."
    )
    key: Flag = Field(default=False, description="Nhiệm vụ trọng tâm.")
    activation: Activation | None = Field(
        default=None,
        description="'immediate' (ngay) hoặc 'on_parent_done' (khi nhiệm vụ cha hoàn thành). "
        "Mặc định: ngay với nhiệm vụ gốc, chờ cha với nhiệm vụ con.",
    )
    escalation: PolicyRef | None = None
    targets: list[Target] = Field(
        default_factory=list, description="Chỉ tiêu định lượng của nhiệm vụ (nếu có)."
    )
    note: Text | None = None
    source: Text | None = Field(default=None, description="Trích dẫn vị trí trong văn bản nguồn.")
    children: list[TaskSpec] = Field(default_factory=list)


class DirectiveFile(_Strict):
    """A directive file (``kind: directive``): one document and its cascade of tasks."""

    kind: Literal["directive"]
    code: Code = Field(description="Mã chỉ đạo, ví dụ 'kh-67-2013'.")
    document: Document
    implements: list[DocumentRef] = Field(default_factory=list)
    focal_unit: NonEmpty | None = Field(default=None, description="Cơ quan đầu mối theo dõi.")
    contact: Contact | None = Field(
        default=None,
        description="Cơ quan theo dõi và liên hệ ghi ở phần ký cuối bản nhắc việc; mặc định là cơ "
        "quan đầu mối và liên hệ của đơn vị đó trong danh mục.",
    )
    roll_to_working_day: Flag = Field(
        default=True,
        description="Hạn rơi vào ngày nghỉ thì chuyển sang ngày làm việc kế tiếp (BLDS 2015, Đ.148).",
    )
    recurrence_from: Date | None = Field(
        default=None,
        description="Sinh kỳ lặp từ ngày này; mặc định là ngày ban hành (dùng khi văn bản không ghi ngày).",
    )
    recurrence_until: Date | None = Field(
        default=None,
        description="Sinh kỳ lặp ('Hàng năm'…) đến ngày này; mặc định đến hết năm hiện tại.",
    )
    escalation: PolicyRef | None = Field(
        default=None, description="Chính sách nhắc việc/đôn đốc; mặc định 'mac-dinh'."
    )
    closes_parent_task: Literal["verified", "awaiting_verification", "off"] = Field(
        default="verified",
        description="Khi nạp văn bản này, nhiệm vụ ban hành văn bản của văn bản được thực hiện "
        "('implements') được ghi nhận hoàn thành: 'verified' (xác nhận luôn), "
        "'awaiting_verification' (chờ cơ quan theo dõi xác nhận) hoặc 'off' (không ghi nhận).",
    )
    groups: list[Group] = Field(default_factory=list, description="Nhóm riêng của văn bản này.")
    tasks: list[TaskSpec] = Field(default_factory=list)
    note: Text | None = None


TaskSpec.model_rebuild()
