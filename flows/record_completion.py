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
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field, model_validator

from kttt_workflow.domain.fanout import parse_task_id, task_ref
from kttt_workflow.orchestration import events
from kttt_workflow.orchestration.prefect_api import add_run_tags, directive_tag, unit_tag
from kttt_workflow.service import CompletionResult, Tracker
from kttt_workflow.store.facts import Fact

DECISION_VI = {"verify": "xác nhận hoàn thành", "return": "trả lại báo cáo"}


class CompletionParams(BaseModel):
    """Form shown by the Prefect UI for a run of this flow."""

    task: str = Field(
        title="Mã nhiệm vụ",
        description="Ví dụ kh-67-2013/III.1/tq-so-noi-vu (hoặc 'văn bản/nhiệm vụ' kèm mã đơn vị).",
        min_length=1,
    )
    unit: str | None = Field(
        default=None, title="Mã đơn vị", description="Khi mã nhiệm vụ chưa ghi đơn vị."
    )
    evidence: str | None = Field(
        default=None,
        title="Minh chứng hoàn thành",
        description="Ví dụ: Kế hoạch số 28/KH-UBND ngày 04/02/2021. Để trống nếu chỉ xác nhận "
        "hoặc trả lại báo cáo đã ghi nhận.",
    )
    reported_on: date | None = Field(
        default=None, title="Ngày báo cáo hoàn thành", description="Để trống: hôm nay."
    )
    note: str | None = Field(default=None, title="Ghi chú")
    attachment: str | None = Field(default=None, title="Tệp đính kèm (đường dẫn hoặc URL)")
    decision: Literal["verify", "return"] | None = Field(
        default=None,
        title="Quyết định của chuyên viên theo dõi",
        description="verify: xác nhận hoàn thành (kích hoạt nhiệm vụ con); return: trả lại báo "
        "cáo; để trống: chỉ ghi nhận báo cáo, chờ xác nhận.",
    )
    decided_on: date | None = Field(
        default=None, title="Ngày xác nhận / trả lại", description="Để trống: hôm nay."
    )
    reason: str | None = Field(default=None, title="Lý do trả lại")
    database_url: str | None = Field(
        default=None,
        title="URL cơ sở dữ liệu",
        description="Để trống để dùng KTTT_DATABASE_URL hoặc mặc định.",
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> CompletionParams:
        if not (self.evidence and self.evidence.strip()) and self.decision is None:
            raise ValueError("cần ghi minh chứng hoàn thành, hoặc chọn xác nhận / trả lại")
        if self.decision == "return" and not (self.reason and self.reason.strip()):
            raise ValueError("cần ghi lý do trả lại báo cáo")
        return self


def _as_dict(r: CompletionResult) -> dict[str, Any]:
    return {
        "task_id": r.task_id,
        "state": r.state,
        "completion_id": r.completion_id,
        "activated": r.activated,
    }


@task(name="report-completion", cache_policy=NO_CACHE)
def report_completion(tracker: Tracker, p: CompletionParams) -> dict[str, Any]:
    assert p.evidence is not None
    r = tracker.complete(
        p.task, p.evidence, on=p.reported_on, unit=p.unit, note=p.note, attachment=p.attachment
    )
    return _as_dict(r)


@task(name="verify-completion", cache_policy=NO_CACHE)
def verify_completion(tracker: Tracker, p: CompletionParams, task_id: str) -> dict[str, Any]:
    return _as_dict(tracker.verify(task_id, on=p.decided_on))


@task(name="return-completion", cache_policy=NO_CACHE)
def return_completion(tracker: Tracker, p: CompletionParams, task_id: str) -> dict[str, Any]:
    assert p.reason is not None
    return _as_dict(tracker.return_(task_id, p.reason, on=p.decided_on))


@task(name="read-events", cache_policy=NO_CACHE)
def read_facts(tracker: Tracker, after: int, directive: str) -> list[Fact]:
    return [f for f in tracker.history_facts(after) if f.directive == directive]


@flow(name="record-completion", log_prints=False)
def record_completion(params: CompletionParams) -> dict[str, Any]:
    """Report → verify or return → events → artifact."""
    logger = get_run_logger()
    with Tracker.open(params.database_url) as tracker:
        mark = tracker.watermark()
        task_id = task_ref(params.task, params.unit)
        steps: list[dict[str, Any]] = []
        if params.evidence and params.evidence.strip():
            reported = report_completion(tracker, params)
            task_id = reported["task_id"]
            steps.append(reported)
            logger.info("Đã ghi nhận báo cáo hoàn thành của %s", task_id)
        if params.decision == "verify":
            steps.append(verify_completion(tracker, params, task_id))
        elif params.decision == "return":
            steps.append(return_completion(tracker, params, task_id))
        result = steps[-1]
        ref = parse_task_id(result["task_id"])
        add_run_tags(directive_tag(ref.directive), unit_tag(ref.unit or ""))
        facts = read_facts(tracker, mark.history, ref.directive)
    events.emit(facts)
    activated = [f.task_id for f in facts if f.kind == "activated"]
    lines = [f"# Ghi nhận hoàn thành: `{result['task_id']}`", ""]
    if params.evidence:
        lines.append(f"- Minh chứng: {params.evidence}")
    if params.decision:
        lines.append(f"- Quyết định: {DECISION_VI[params.decision]}")
    if params.reason:
        lines.append(f"- Lý do: {params.reason}")
    lines.append(f"- Trạng thái nhiệm vụ: {result['state']}")
    if activated:
        lines.append(f"- Nhiệm vụ con được kích hoạt ({len(activated)}):")
        lines += [f"  - `{a}`" for a in activated]
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n", description=f"Hoàn thành {result['task_id']}"
    )
    for a in activated:
        logger.info("Kích hoạt nhiệm vụ con %s", a)
    return {**result, "activated_tasks": activated, "events": len(facts)}


if __name__ == "__main__":
    import sys

    record_completion(CompletionParams.model_validate_json(sys.argv[1]))
