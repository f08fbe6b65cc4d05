"""Delivery targets without any network (``kttt_workflow.notify.targets``): ``${VAR}`` placeholders
expanded from the environment, and secrets masked for logs, reports and the database.

``mask_target`` asks Apprise to parse each URL, which opens no connection; the whole unit folder
runs under the loopback-only network guard (``tests/unit/conftest.py``) to keep it so.
"""

from __future__ import annotations

import pytest

from kttt_workflow.notify import redaction
from kttt_workflow.notify.targets import TargetError, expand_target, mask_target


def test_expand_target_from_env_mapping_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"KTTT_SMTP_USER": "kttt", "KTTT_SMTP_PASS": "S3cr3tPass", "KTTT_TG_TOKEN": "1:AB"}
    tpl = (
        "mailto://${KTTT_SMTP_USER}:${KTTT_SMTP_PASS}@smtp.example.gov.vn?to=sokhdt@example.gov.vn"
    )
    assert (
        expand_target(tpl, env)
        == "mailto://kttt:S3cr3tPass@smtp.example.gov.vn?to=sokhdt@example.gov.vn"
    )
    assert expand_target("tgram://${KTTT_TG_TOKEN}/12345", env) == "tgram://1:AB/12345"
    assert expand_target("json://127.0.0.1/hook") == "json://127.0.0.1/hook"
    monkeypatch.setenv("KTTT_TG_TOKEN", "9:XY")
    assert expand_target("tgram://${KTTT_TG_TOKEN}/1") == "tgram://9:XY/1"


def test_expand_target_missing_variable_names_it_without_values() -> None:
    env = {"KTTT_SMTP_USER": "kttt-user-value"}
    with pytest.raises(TargetError) as exc_info:
        expand_target("mailto://${KTTT_SMTP_USER}:${KTTT_SMTP_PASS}@smtp.example.gov.vn", env)
    text = str(exc_info.value)
    assert "KTTT_SMTP_PASS" in text
    assert "kttt-user-value" not in text
    assert "biến môi trường" in text
    with pytest.raises(TargetError):
        expand_target("json://host/${1BAD}", env)


@pytest.mark.parametrize(
    ("url", "secret", "shown"),
    [
        (
            "mailto://kttt:S3cr3tPass@smtp.example.gov.vn?to=so@example.gov.vn",
            "S3cr3tPass",
            "smtp.example.gov.vn",
        ),
        (
            "mailtos://kttt:S3cr3tPass@smtp.example.gov.vn?to=so@example.gov.vn",
            "S3cr3tPass",
            "so%40example.gov.vn",
        ),
        ("tgram://123456789:AAE-secret-bot-token/12345", "AAE-secret-bot-token", "tgram://"),
        (
            "json://127.0.0.1:8080/bot123456:ABCDEF_secret_token",
            "ABCDEF_secret_token",
            "127.0.0.1:8080",
        ),
        (
            "json://127.0.0.1/hook?+Authorization=Bearer%20ABCDEF_secret_token",
            "ABCDEF_secret_token",
            "/hook",
        ),
        (
            "json://u:S3cr3tPass@127.0.0.1/hook?-apikey=ABCDEF_secret_token",
            "ABCDEF_secret_token",
            "json://u:****@",
        ),
        (
            "gotify://127.0.0.1:8080/GOTIFY_secret_tok_42",
            "GOTIFY_secret_tok_42",
            "gotify://127.0.0.1:8080",
        ),
        ("discord://1234567890/ABCDEF_secret_token", "ABCDEF_secret_token", "discord://"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/ABCDEF_secret_token", "ABCDEF_secret_token", "slack://"),
        ("mailto://user:S3cr3tPass@127.0.0.1:25?to=a@b.vn", "S3cr3tPass", "mailto://127.0.0.1:25"),
        (
            "bogus://user:S3cr3tPass@host.example.vn/ABCDEF_secret_token",
            "S3cr3tPass",
            "bogus://host.example.vn",
        ),
        ("tgram://${KTTT_TG_TOKEN}/12345", "AAE-secret-bot-token", "tgram://${KTTT_TG_TOKEN}"),
        ("zalo://123456789:ABCDEF_secret_token/5f1b2c3d4e", "123456789", "zalo://1...n/5f1b2c3d4e"),
        (
            "zalo://${KTTT_ZALO_TOKEN}/5f1b2c3d4e",
            "ABCDEF_secret_token",
            "zalo://${KTTT_ZALO_TOKEN}",
        ),
    ],
)
def test_mask_target_hides_secrets(url: str, secret: str, shown: str) -> None:
    masked = mask_target(url)
    assert secret not in masked
    assert "ABCDEF_secret_token" not in masked
    assert shown in masked
    assert mask_target(url) == masked  # deterministic: identifies the target across attempts


def test_mask_target_distinguishes_targets() -> None:
    a = mask_target("mailto://127.0.0.1:25?to=a@example.gov.vn&from=k@localhost")
    b = mask_target("mailto://127.0.0.1:25?to=b@example.gov.vn&from=k@localhost")
    c = mask_target("tgram://123456789:AAE-secret-bot-token/12345")
    d = mask_target("tgram://123456789:AAE-secret-bot-token/67890")
    assert len({a, b, c, d}) == 4


def test_overlapping_secrets_are_hidden_whole() -> None:
    # Two targets' secrets overlap in one log line (a webhook path word ending where a bot token
    # begins): no fragment of either shows. (Unusual values: the registry is process-wide.)
    redaction.register_secrets(["qzhook987654", "987654321:qzBotKey"])
    line = "POST /qzhook987654321:qzBotKey/sendMessage"
    assert redaction.redact(line) == "POST /****/sendMessage"
    assert redaction.redact("qzhook987654 and 987654321:qzBotKey") == "**** and ****"
    assert redaction.redact("x-qzExtraA-qzExtraB", ["qzExtraA-qz", "qzExtraB"]) == "x-****"
