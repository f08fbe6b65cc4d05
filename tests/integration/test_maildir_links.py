"""The local Maildir never follows a link below its root, and never writes outside it.

Real symbolic links in a temporary folder point outside the mail root; the delivery of a unit
without targets (``dispatch`` with no template, as the outbox calls it) must then fail with a
Vietnamese message saying a link was refused, and nothing may appear outside. A link or a FIFO
among the delivered messages is not taken for a message.
"""

from __future__ import annotations

import mailbox
import os
import stat
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from kttt_workflow.domain.delivery import TargetOutcome
from kttt_workflow.notify.dispatch import dispatch
from kttt_workflow.notify.maildir import write_maildir
from kttt_workflow.notify.message import DELIVERY_HEADER, Message

UNIT = "sokhdt"
DELIVERY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
REFUSED = "đã từ chối liên kết tượng trưng (symlink)"


def message(delivery_id: str = DELIVERY) -> Message:
    return Message(
        delivery_id,
        "Nhắc việc, đôn đốc ngày 10/01/2023: 1 nhiệm vụ (1 quá hạn)",
        "Nhiệm vụ quá hạn: báo cáo tình hình thực hiện.",
        "**Nhiệm vụ quá hạn**: báo cáo tình hình thực hiện.",
        UNIT,
        "Sở Kế hoạch và Đầu tư",
    )


def local(root: Path, msg: Message | None = None) -> TargetOutcome:
    [outcome] = dispatch(
        msg or message(), [], set(), maildir=root, connect_timeout=1.0, read_timeout=1.0
    )
    return outcome


def tree(folder: Path) -> list[str]:
    """Everything under ``folder`` (links not followed), as relative paths."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    """The mail root (in a home) and a folder outside it, empty."""
    root = tmp_path / "home" / "mail"
    root.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    return root, outside


def assert_refused(outcome: TargetOutcome, where: str) -> None:
    assert outcome.status == "failed"
    assert outcome.target == f"maildir:{UNIT}"
    assert outcome.error is not None
    assert outcome.error.startswith("không ghi được hộp thư cục bộ: " + REFUSED)
    assert f"tại {where}:" in outcome.error
    assert "không ghi ra ngoài thư mục thư" in outcome.error


def test_a_symlinked_unit_folder_is_refused(places: tuple[Path, Path]) -> None:
    root, outside = places
    (root / UNIT).symlink_to(outside, target_is_directory=True)
    assert_refused(local(root), f"thư mục {UNIT}")
    assert tree(outside) == []


@pytest.mark.parametrize("sub", ["tmp", "new", "cur"])
def test_a_symlinked_subfolder_is_refused(places: tuple[Path, Path], sub: str) -> None:
    root, outside = places
    box = root / UNIT
    box.mkdir()
    for other in {"tmp", "new", "cur"} - {sub}:
        (box / other).mkdir()
    (box / sub).symlink_to(outside, target_is_directory=True)
    assert_refused(local(root), f"thư mục {UNIT}/{sub}")
    assert tree(outside) == []
    assert tree(box) == sorted(["cur", "new", "tmp"])  # nothing written inside either


@pytest.mark.parametrize("existing", [False, True])
def test_a_symlinked_lock_file_is_refused(places: tuple[Path, Path], existing: bool) -> None:
    root, outside = places
    box = root / UNIT
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True)
    victim = outside / "victim.txt"
    if existing:
        victim.write_text("không được chạm vào\n", encoding="utf-8")
    (box / ".kttt.lock").symlink_to(victim)
    assert_refused(local(root), f"tệp khóa {UNIT}/.kttt.lock")
    assert tree(outside) == (["victim.txt"] if existing else [])  # not created through the link
    if existing:
        assert victim.read_text(encoding="utf-8") == "không được chạm vào\n"
    assert tree(box / "new") == [] and tree(box / "tmp") == []


def test_a_unit_folder_that_is_a_file_fails_in_vietnamese(places: tuple[Path, Path]) -> None:
    root, _ = places
    (root / UNIT).write_text("", encoding="utf-8")
    outcome = local(root)
    assert outcome.status == "failed"
    assert outcome.error == f"không ghi được hộp thư cục bộ: thư mục {UNIT} không phải là thư mục"


def test_a_link_among_delivered_messages_does_not_pass_for_the_digest(
    places: tuple[Path, Path],
) -> None:
    # A file outside carrying the delivery id, linked into new/: the digest is still delivered.
    root, outside = places
    forged = outside / "forged.eml"
    forged.write_bytes(f"{DELIVERY_HEADER}: {DELIVERY}\nSubject: x\n\nx\n".encode())
    box = root / UNIT
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1.forged").symlink_to(forged)

    outcome = local(root)
    assert outcome.status == "local", outcome.error
    real = [p for p in (box / "new").iterdir() if not p.is_symlink()]
    assert len(real) == 1
    em = BytesParser(policy=policy.default).parsebytes(real[0].read_bytes())
    assert em[DELIVERY_HEADER] == DELIVERY
    assert str(em["Subject"]).startswith("Nhắc việc, đôn đốc ngày 10/01/2023")
    assert forged.read_bytes().startswith(DELIVERY_HEADER.encode())  # untouched


def test_a_fifo_among_delivered_messages_does_not_block_the_delivery(
    places: tuple[Path, Path],
) -> None:
    root, _ = places
    box = root / UNIT
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True)
    os.mkfifo(box / "cur" / "0.fifo")
    done: list[TargetOutcome] = []
    worker = threading.Thread(target=lambda: done.append(local(root)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert done, "the delivery blocked on a FIFO in cur/"
    assert done[0].status == "local"


def test_the_message_is_a_private_regular_file_delivered_through_tmp(
    places: tuple[Path, Path],
) -> None:
    root, outside = places
    path = write_maildir(root, message())
    assert path.parent == root / UNIT / "new"
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1  # linked into new/, gone from tmp/
    assert stat.S_IMODE(st.st_mode) == 0o600
    for sub in ("", "tmp", "new", "cur"):
        assert stat.S_IMODE(os.lstat(root / UNIT / sub).st_mode) == 0o700
    assert tree(root / UNIT / "tmp") == []
    assert stat.S_IMODE(os.lstat(root / UNIT / ".kttt.lock").st_mode) == 0o600
    box = mailbox.Maildir(root / UNIT, factory=None, create=False)
    [key] = box.keys()
    assert box[key][DELIVERY_HEADER] == DELIVERY
    assert write_maildir(root, message()) == path  # idempotent
    assert write_maildir(root, message("aa" * 16)) != path
    assert len(mailbox.Maildir(root / UNIT, factory=None, create=False)) == 2
    assert tree(outside) == []


def test_a_mail_root_that_is_a_link_is_the_operators_choice(tmp_path: Path) -> None:
    # KTTT_MAILDIR may point at another disk through a link: the root is followed, once.
    real = tmp_path / "disk" / "mail"
    real.mkdir(parents=True)
    root = tmp_path / "home" / "mail"
    root.parent.mkdir()
    root.symlink_to(real, target_is_directory=True)
    outcome = local(root)
    assert outcome.status == "local", outcome.error
    assert len(list((real / UNIT / "new").iterdir())) == 1
