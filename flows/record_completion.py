"""``record-completion``: a unit's completion report with evidence, and the coordinator's decision.

Report (``Tracker.complete``) → verify (``Tracker.verify``: the task is done, its waiting child
tasks activate) or return (``Tracker.return_``) → events (reported, verified/returned, activated)
→ a Markdown artifact of what was recorded. Each step is one transaction of the service.

A coordinator fills the deployment's "Run" form in the Prefect UI; the same run as JSON::

    {"params": {"task": "kh-1-2022/1/x-ubnd", "evidence": "Kế hoạch số 5/KH-UBND ngày 02/12/2022",
                "reported_on": "2022-12-02", "decision": "verify"}}
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from kttt_workflow.domain.fanout import parse_task_id, task_ref
from kttt_workflow.domain.status import LABELS, Status
from kttt_workflow.orchestration import events
from kttt_workflow.orchestration.artifacts import publish_progress
from kttt_workflow.orchestration.prefect_api import (
    add_run_tags,
    directive_tag,
    rename_run,
    run_param,
    unit_tag,
)
from kttt_workflow.service import CompletionResult, Tracker
from kttt_workflow.store.facts import Fact


class Decision(StrEnum):
    """The coordinator's decision, as the form's list shows it."""

    none = "Chỉ ghi nhận báo cáo (chờ xác nhận)"
    verify = "Xác nhận hoàn thành"
    return_ = "Trả lại báo cáo"


DECISION_VI = {Decision.verify: "xác nhận hoàn thành", Decision.return_: "trả lại báo cáo"}
_DECISIONS = {"verify": Decision.verify, "return": Decision.return_, "": Decision.none}


def parse_day(text: str) -> date | None:
    """``05/12/2022`` or ``2022-12-05`` (empty: None)."""
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:
            d, m, y = (int(x) for x in text.split("/"))
            return date(y, m, d)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"ngày '{text}' không hợp lệ; ghi theo dạng 05/12/2022") from None


class CompletionParams(BaseModel):
    """Báo cáo hoàn thành của đơn vị và quyết định của chuyên viên theo dõi."""

    task: str = Field(
        title="Mã nhiệm vụ",
        description="Ví dụ kh-67-2013/III.1/tq-so-noi-vu (hoặc 'văn bản/nhiệm vụ' kèm mã đơn vị).",
        min_length=1,
    )
    unit: str = Field(default="", title="Mã đơn vị", description="Khi mã nhiệm vụ chưa ghi đơn vị.")
    evidence: str = Field(
        default="",
        title="Minh chứng hoàn thành",
        description="Ví dụ: Kế hoạch số 28/KH-UBND ngày 04/02/2021. Để trống nếu chỉ xác nhận "
        "hoặc trả lại báo cáo đã ghi nhận.",
    )
    reported_on: str = Field(
        default="",
        title="Ngày báo cáo hoàn thành",
        description="Dạng 05/12/2022. Để trống: hôm nay.",
    )
    note: str = Field(default="", title="Ghi chú")
    attachment: str = Field(default="", title="Tệp đính kèm (đường dẫn hoặc URL)")
    decision: Decision = Field(
        default=Decision.none,
        title="Quyết định của chuyên viên theo dõi",
        description="Xác nhận hoàn thành kích hoạt các nhiệm vụ con; trả lại báo cáo cần ghi lý do.",
    )
    decided_on: str = Field(
        default="",
        title="Ngày xác nhận / trả lại",
        description="Dạng 05/12/2022. Để trống: hôm nay.",
    )
    reason: str = Field(default="", title="Lý do trả lại")
    # Configuration, not a form field: the store is KTTT_DATABASE_URL (or $KTTT_HOME/kttt.db);
    # tests pass their own, and it is never stored with the run's parameters.
    database_url: SkipJsonSchema[str | None] = Field(default=None, exclude=True)

    @field_validator("reported_on", "decided_on", mode="before")
    @classmethod
    def _date_text(cls, v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, date):
            return v.isoformat()
        return v

    @field_validator("unit", "evidence", "note", "attachment", "reason", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return "" if v is None else v

    @field_validator("decision", mode="before")
    @classmethod
    def _decision(cls, v: Any) -> Any:
        return Decision.none if v is None else _DECISIONS.get(v, v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _something_to_do(self) -> CompletionParams:
        parse_day(self.reported_on)
        parse_day(self.decided_on)
        if not self.evidence.strip() and self.decision is Decision.none:
            raise ValueError("cần ghi minh chứng hoàn thành, hoặc chọn xác nhận / trả lại")
        if self.decision is Decision.return_ and not self.reason.strip():
            raise ValueError("cần ghi lý do trả lại báo cáo")
        return self

    @property
    def reported_day(self) -> date | None:
        return parse_day(self.reported_on)

    @property
    def decided_day(self) -> date | None:
        return parse_day(self.decided_on)


def _as_dict(r: CompletionResult) -> dict[str, Any]:
    return {
        "task_id": r.task_id,
        "state": r.state,
        "completion_id": r.completion_id,
        "activated": r.activated,
    }


@task(name="report-completion", cache_policy=NO_CACHE)
def report_completion(tracker: Tracker, p: CompletionParams, task_id: str) -> dict[str, Any]:
    r = tracker.complete(
        task_id,
        p.evidence,
        on=p.reported_day,
        note=p.note or None,
        attachment=p.attachment or None,
    )
    return _as_dict(r)


@task(name="verify-completion", cache_policy=NO_CACHE)
def verify_completion(tracker: Tracker, p: CompletionParams, task_id: str) -> dict[str, Any]:
    return _as_dict(tracker.verify(task_id, on=p.decided_day))


@task(name="return-completion", cache_policy=NO_CACHE)
def return_completion(tracker: Tracker, p: CompletionParams, task_id: str) -> dict[str, Any]:
    return _as_dict(tracker.return_(task_id, p.reason, on=p.decided_day))


@task(name="read-events", cache_policy=NO_CACHE)
def read_facts(tracker: Tracker, after: int, directive: str) -> list[Fact]:
    return [f for f in tracker.history_facts(after) if f.directive == directive]


@task(name="refresh-progress", cache_policy=NO_CACHE)
def refresh_progress(tracker: Tracker, directive: str, day: date) -> list[str]:
    """The directive's progress artifacts again, as of the date the UI shows (never earlier than
    the report or decision just recorded)."""
    from kttt_workflow.domain.progress import short_name
    from kttt_workflow.orchestration.artifacts import artifact_key, latest_as_of

    report = tracker.progress(as_of=day, directive=directive)
    shown = latest_as_of(
        artifact_key("tien-do", directive, short_name(report.directives[directive]))
    )
    if shown is not None and shown > day:
        report = tracker.progress(as_of=shown, directive=directive)
    return publish_progress(report, tracker)


def _run_name() -> str:
    return f"Hoàn thành: {task_ref(str(run_param('task', '?')), run_param('unit'))}"


def _status_text(tracker: Tracker, task_id: str, day: date) -> str:
    found = tracker.status(as_of=day, task_ids=[task_id])
    if not found:  # a recurring instance whose period has not begun on that day
        return "chưa đến kỳ của nhiệm vụ (chưa tính vào tình trạng tại ngày này)"
    [st] = found
    text = LABELS[Status(st.status)]
    if st.days_overdue and st.status in (Status.done_late.value, Status.overdue.value):
        text += f" ({st.days_overdue} ngày)"
    return text


@flow(name="record-completion", log_prints=False, flow_run_name=_run_name)
def record_completion(params: CompletionParams) -> dict[str, Any] | State[Any]:
    """Report → verify or return → events → artifact → the directive's progress refreshed.

    Args:
        params: Báo cáo hoàn thành của đơn vị và quyết định của chuyên viên theo dõi.
    """
    logger = get_run_logger()
    with Tracker.open(params.database_url) as tracker:
        # The task first: a mistyped id fails at once, with the ids it resembles.
        found, close = tracker.find_task(params.task, params.unit or None)
        if found is None:
            ref = task_ref(params.task, params.unit or None)
            hint = (
                "Có phải: " + ", ".join(close) + "?"
                if close
                else "Không có mã nào gần giống; kiểm tra mã văn bản và mã đơn vị."
            )
            message = f"Không tìm thấy nhiệm vụ '{ref}'. {hint}"
            logger.error(message)
            return Failed(message=message)
        task_id = found
        rename_run(f"Hoàn thành: {task_id}")
        mark = tracker.watermark()
        steps: list[dict[str, Any]] = []
        try:
            if params.evidence.strip():
                reported = report_completion(tracker, params, task_id)
                task_id = reported["task_id"]
                steps.append(reported)
                logger.info("Đã ghi nhận báo cáo hoàn thành của %s", task_id)
            if params.decision is Decision.verify:
                steps.append(verify_completion(tracker, params, task_id))
            elif params.decision is Decision.return_:
                steps.append(return_completion(tracker, params, task_id))
        except Exception as e:  # a KtttError in Vietnamese: said once, without a traceback
            from kttt_workflow.errors import KtttError

            if not isinstance(e, KtttError):
                raise
            logger.error("%s", e)
            return Failed(message=str(e))
        result = steps[-1]
        ref = parse_task_id(result["task_id"])
        add_run_tags(directive_tag(ref.directive), unit_tag(ref.unit or ""))
        facts = read_facts(tracker, mark.history, ref.directive)
        # The date the run's words and the refreshed view are as of: the decision's (today when
        # decided without a date), else the report's.
        decided = params.decided_day or tracker.today()
        on = decided if params.decision is not Decision.none else params.reported_day or decided
        status_text = _status_text(tracker, result["task_id"], on)
        refreshed = refresh_progress(tracker, ref.directive, on)
        names = tracker.directive_names([ref.directive])
    events.emit(facts, names=names)
    activated = [f.task_id for f in facts if f.kind == "activated"]
    lines = [f"# Ghi nhận hoàn thành: `{result['task_id']}`", ""]
    if params.evidence:
        lines.append(f"- Minh chứng: {params.evidence}")
    if params.decision is not Decision.none:
        lines.append(f"- Quyết định: {DECISION_VI[params.decision]}")
    if params.reason:
        lines.append(f"- Lý do: {params.reason}")
    lines.append(f"- Tình trạng nhiệm vụ: {status_text}")
    if activated:
        lines.append(f"- Nhiệm vụ con được kích hoạt ({len(activated)}):")
        lines += [f"  - `{a}`" for a in activated]
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        description=f"Hoàn thành {result['task_id']}: {status_text}",
    )
    for a in activated:
        logger.info("Kích hoạt nhiệm vụ con %s", a)
    out = {**result, "activated_tasks": activated, "events": len(facts), "artifacts": refreshed}
    message = f"{result['task_id']}: {status_text}"
    if activated:
        message += f"; kích hoạt {len(activated)} nhiệm vụ con"
    return Completed(message=message, data=out)


if __name__ == "__main__":
    import sys

    record_completion(CompletionParams.model_validate_json(sys.argv[1]))
