"""What ``mask_target`` shows of a delivery target, scheme by scheme (no network: Apprise only
parses the URLs; the unit folder runs under the loopback-only network guard).

A masked target is what ``kttt deliveries`` prints and what the ledger keeps. It must identify
the target (scheme, host, recipients, Telegram chat ids, the words of Apprise's URL syntax) and
show nothing that may be a token: every other path segment and query value is hidden, lower-case
words included (``json://host/hooks/zqxsecretword`` used to show whole).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from kttt_workflow.notify.targets import SYNTAX_WORDS, mask_target

WORD = "zqxsecretword"

# One template per supported scheme and per place a secret may be written: "{w}" is the place.
# Each comes with what its mask must still show (the target stays recognisable).
SLOTS: list[tuple[str, str]] = [
    # JSON / XML / form webhooks: any path segment may be a token.
    ("json://hooks.example.vn/hooks/{w}", "json://hooks.example.vn/hooks/"),
    ("json://hooks.example.vn/{w}/hooks", "json://hooks.example.vn/"),
    ("json://hooks.example.vn/api/v2/{w}/notify", "/api/v2/"),
    ("jsons://kttt@hooks.example.vn:8443/{w}", "jsons://kttt@hooks.example.vn:8443/"),
    ("json://127.0.0.1:8080/webhook/{w}?method=PUT", "method=PUT"),
    ("json://127.0.0.1:8080/hook?-token={w}", "json://127.0.0.1:8080/hook"),
    ("json://127.0.0.1:8080/hook?-chat={w}", "json://127.0.0.1:8080/hook"),
    ("json://127.0.0.1:8080/hook?:room={w}", "json://127.0.0.1:8080/hook"),
    ("json://127.0.0.1:8080/hook?+X-Room={w}", "json://127.0.0.1:8080/hook"),
    ("json://127.0.0.1:8080/hook?x={w}", "json://127.0.0.1:8080/hook"),
    ("xml://hooks.example.vn/{w}", "xml://hooks.example.vn/"),
    ("xmls://hooks.example.vn/api/{w}/{w}", "xmls://hooks.example.vn/api/"),
    ("form://hooks.example.vn/hooks/{w}", "form://hooks.example.vn/hooks/"),
    ("form://hooks.example.vn/hooks?attach-as={w}", "form://hooks.example.vn/hooks"),
    ("forms://hooks.example.vn/{w}?:field={w}", "forms://hooks.example.vn/"),
    # E-mail: recipients and the login name are shown, everything else is hidden.
    ("mailto://kttt:pw@smtp.example.gov.vn/{w}", "mailto://kttt:****@smtp.example.gov.vn/"),
    ("mailto://kttt:{w}@smtp.example.gov.vn?to=so@example.gov.vn", "so%40example.gov.vn"),
    ("mailto://kttt:pw@smtp.example.gov.vn?to={w}", "smtp.example.gov.vn"),
    ("mailto://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&cc={w}", "so%40example.gov.vn"),
    # (Apprise 2.2 leaves the sender address out of ``from=`` when it is the login's user@host.)
    (
        "mailto://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&from={w}",
        "mailto://kttt:****@smtp.example.gov.vn/so%40example.gov.vn?",
    ),
    (
        "mailto://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&name={w}",
        "mailto://kttt:****@smtp.example.gov.vn/so%40example.gov.vn?",
    ),
    ("mailto://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&smtp={w}", "so%40example"),
    ("mailto://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&+X-Tag={w}", "so%40example"),
    ("mailtos://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&pass={w}", "mailtos://kttt:"),
    ("mailtos://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&mode={w}", "mailtos://"),
    # Telegram: the bot token is hidden; numeric chat ids are shown, chat names are not.
    ("tgram://123456789:AAE{w}/12345", "tgram://1...d/12345/"),
    ("tgram://123456789:AAE-bot-token/{w}", "tgram://"),
    ("tgram://123456789:AAE-bot-token/12345/{w}/-100123", "/-100123/12345/"),
    ("tgram://123456789:AAE-bot-token/@{w}", "tgram://"),
    ("tgram://123456789:AAE-bot-token/?to={w}", "tgram://"),
    ("tgram://123456789:AAE-bot-token/12345?topic={w}", "tgram://"),
    # Zalo (Apprise 2.2): the bot token is hidden, wherever it is written; chat ids are shown.
    ("zalo://123456789:AAE{w}/5f1b2c3d4e5a", "zalo://1...d/5f1b2c3d4e5a?"),
    ("zalo://123456789/{w}/5f1b2c3d4e5a", "zalo://1...d/5f1b2c3d4e5a?"),
    ("zalo://5f1b2c3d4e5a?token=123456789:{w}", "zalo://1...d/5f1b2c3d4e5a?"),
    ("zalo://123456789:AAE-bot-token/5f1b2c3d4e5a/@{w}", "/5f1b2c3d4e5a/"),
    ("zalo://{w}/5f1b2c3d4e5a", "zalo://"),
    # Gotify: the app token is hidden, and so is a path prefix that is not a syntax word.
    ("gotify://127.0.0.1:8080/{w}/AAAAAAAAAAAAAAA", "gotify://127.0.0.1:8080/"),
    ("gotify://127.0.0.1:8080/AAAAAAAAAAAAAAA{w}", "gotify://127.0.0.1:8080/"),
    ("gotify://127.0.0.1:8080/AAAAAAAAAAAAAAA?priority={w}", "gotify://127.0.0.1:8080/"),
    # Discord and Slack: webhook ids and tokens, threads and channels are hidden.
    ("discord://1234567890/{w}", "discord://"),
    ("discord://1234567890/ABCDEF_token?thread={w}", "discord://"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#{w}", "slack://"),
    ("slack://xoxb-1234-1234-abc124/#{w}", "slack://"),
    # A scheme Apprise does not know: only the scheme and the host.
    ("bogus://hooks.example.vn/hooks/{w}", "bogus://hooks.example.vn"),
]


@pytest.mark.parametrize(("template", "shown"), SLOTS)
def test_a_lower_case_word_in_any_path_segment_or_query_value_is_hidden(
    template: str, shown: str
) -> None:
    url = template.format(w=WORD)
    masked = mask_target(url)
    assert WORD not in masked, masked
    assert shown in masked, masked


def test_what_a_mask_still_shows_identifies_the_target() -> None:
    # The words of the channel's syntax, the host, recipients and chat ids stay readable...
    assert mask_target("json://hooks.example.vn/hooks/zqxsecretword").startswith(
        "json://hooks.example.vn/hooks/z...d?"
    )
    assert mask_target("json://hooks.example.vn/api/v1/webhook/AbC9").startswith(
        "json://hooks.example.vn/api/v1/webhook/****?"
    )
    mail = mask_target("mailto://kttt:pw@smtp.example.gov.vn?to=a@example.gov.vn,b@example.gov.vn")
    assert mail.startswith("mailto://kttt:****@smtp.example.gov.vn/a%40example.gov.vn/")
    assert "b%40example.gov.vn" in mail
    tg = mask_target("tgram://123456789:AAE-bot-token/12345/-1001234567890/@kttt_channel")
    assert "/12345/" in tg and "/-1001234567890/" in tg
    assert "kttt_channel" not in tg and "/@...l/" in tg
    zalo = mask_target("zalo://123456789:AAE-bot-token/5f1b2c3d4e5a/9e8d7c6b")
    assert zalo.startswith("zalo://1...n/5f1b2c3d4e5a/9e8d7c6b?"), zalo
    # ... and the values of Apprise's own parameters too (enumerated words, booleans, numbers).
    json = mask_target("json://127.0.0.1:8080/hook?method=PUT&format=markdown&overflow=split&cto=3")
    for part in ("method=PUT", "format=markdown", "overflow=split", "cto=3.0", "optional=no"):
        assert part in json, json
    gotify = mask_target("gotify://127.0.0.1:8080/AAAAAAAAAAAAAAA?priority=high")
    assert "priority=high" in gotify and "AAAAAAAAAAAAAAA" not in gotify
    # Two targets that differ by their hidden part still differ (first and last character).
    assert mask_target("json://h.example.vn/hooks/aaaa-secret-1") != mask_target(
        "json://h.example.vn/hooks/bbbb-secret-2"
    )


def test_a_display_name_in_from_is_hidden_its_address_is_shown() -> None:
    masked = mask_target(
        "mailto://kttt:pw@smtp.example.gov.vn?to=so@example.gov.vn&from=zqxsecretword <k@example.vn>"
    )
    assert WORD not in masked
    assert "k%40example.vn" in masked


def test_three_dots_inside_a_segment_do_not_pass_for_an_apprise_mask() -> None:
    # "X...Y" is Apprise's own mask and is left alone; a longer segment holding "..." is not one.
    for url in (
        "json://hooks.example.vn/hooks/ab...zqxsecretword",
        "json://hooks.example.vn/hooks?:field=ab...zqxsecretword",
        "json://u:ab...zqxsecretword@hooks.example.vn/hooks",
    ):
        masked = mask_target(url)
        assert WORD not in masked, masked


# --------------------------------------------------------------------------------------------
# Property: a secret-looking word placed anywhere a secret may be written never shows
# --------------------------------------------------------------------------------------------

secret_words = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=8,
    max_size=40,
).filter(lambda w: w[0].isalnum() and any(c.isalpha() for c in w))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slot=st.sampled_from([t for t, _ in SLOTS]), word=secret_words)
@example(slot="json://hooks.example.vn/hooks/{w}", word=WORD)
@example(slot="tgram://123456789:AAE-bot-token/{w}", word="kttt_channel")
def test_property_secret_looking_words_never_show(slot: str, word: str) -> None:
    assume(word.lower() not in SYNTAX_WORDS)
    assume(word not in slot.replace("{w}", ""))  # a word that is part of the host is shown
    # Nor a word Apprise itself writes into every rendering of that URL (its parameter names,
    # e.g. "overflow=upstream"): that is not the secret showing.
    assume(word not in mask_target(slot.format(w="zq7secretx")))
    masked = mask_target(slot.format(w=word))
    assert word not in masked, masked
    scheme = slot.partition("://")[0]
    assert masked.startswith(f"{scheme}://"), masked  # still says what kind of target it is
