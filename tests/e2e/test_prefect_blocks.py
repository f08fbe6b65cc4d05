"""Prefect's own notification blocks still work on the Apprise we lock (2.2, overriding prefect
3.9.1's ``apprise<2.1``; see README "Dependencies").

``MattermostWebhook`` builds Apprise's ``NotifyMattermost`` from its fields (host, port, token,
``secure``), so it can point at a real HTTP receiver on 127.0.0.1 over plain HTTP: the request the
receiver records is the one a Mattermost server would get (``POST /hooks/{token}``, JSON
``text``). Once in this process, and once as a user of the Prefect UI would have it: the block
saved on a real Prefect server, an automation whose ``send-notification`` action uses it, and a
real event; the server's process sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import apprise
import pytest
from prefect.blocks.abstract import NotificationError
from prefect.blocks.notifications import MattermostWebhook

from kttt_workflow.orchestration.stack import Stack
from tests.prefect_fixtures import wait_for
from tests.receivers import HOST, HTTPReceiver

TOKEN = "kttt-mattermost-hook-token"
HOOK = f"/hooks/{TOKEN}"


@pytest.fixture
def http() -> Iterator[HTTPReceiver]:
    with HTTPReceiver() as server:
        yield server


def _block(http: HTTPReceiver) -> MattermostWebhook:
    return MattermostWebhook(
        hostname=HOST, port=http.port, token=TOKEN, secure=False, botname="kttt-workflow"
    )


def test_a_mattermost_block_sends_through_the_locked_apprise(http: HTTPReceiver) -> None:
    assert apprise.__version__.startswith("2.2.")
    block = _block(http)
    block.notify("Nhiệm vụ trọng tâm kh-1-2022/1/x-ubnd đã quá hạn.", subject="Cảnh báo quá hạn")
    [req] = http.requests_to(HOOK)
    assert req.method == "POST"
    assert req.json["username"] == "kttt-workflow"
    assert req.json["text"].splitlines() == [
        "Cảnh báo quá hạn",
        "Nhiệm vụ trọng tâm kh-1-2022/1/x-ubnd đã quá hạn.",
    ]
    # A refusal is still reported as Prefect reports it (NotificationError, with Apprise's log;
    # in a process that imported kttt_workflow.notify, that log went through its redaction filter,
    # whose process-wide secrets may include short words of other tests' targets).
    http.set_mode(HOOK, "error")
    with pytest.raises(NotificationError) as failed, block.raise_on_failure():
        block.notify("Thử lại", subject="Cảnh báo quá hạn")
    assert "500" in failed.value.log


def test_an_automation_sends_a_notification_through_a_saved_block(
    prefect_stack: Stack, http: HTTPReceiver
) -> None:
    from prefect.automations import Automation, EventTrigger, Posture, SendNotification
    from prefect.events import emit_event

    from kttt_workflow.orchestration.events import flush

    tag = uuid.uuid4().hex[:8]
    block_id = _block(http).save(f"kttt-test-mattermost-{tag}")
    automation = Automation(
        name=f"kttt-test-notify-{tag}",
        trigger=EventTrigger(
            expect={f"kttt.test.notify.{tag}"},
            posture=Posture.Reactive,
            threshold=1,
            within=0,
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject="Cảnh báo quá hạn",
                body="Nhiệm vụ {{ event.resource.id }} đã quá hạn.",
            )
        ],
    ).create()
    try:
        # The server loads a new automation into its triggers' memory after the create commits, in
        # a task of its own (SQLite) or on a NOTIFY (PostgreSQL): an event that reaches the
        # triggers first is not matched, and never will be. So the event is sent again, every 5 s,
        # until one notification arrives; every one that arrives must be the right one.
        def sent() -> list[Any]:
            emit_event(f"kttt.test.notify.{tag}", resource={"prefect.resource.id": "kh-1-2022/1"})
            flush()
            try:
                return wait_for(lambda: http.requests_to(HOOK), timeout=5)
            except AssertionError:
                return []

        requests = wait_for(sent, timeout=90, every=0)
        for req in requests:
            assert req.json["text"].splitlines() == [
                "Cảnh báo quá hạn",
                "Nhiệm vụ kh-1-2022/1 đã quá hạn.",
            ]
    finally:
        automation.delete()
