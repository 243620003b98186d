"""The pure parts of files: safe names, where a download goes, sizes and errors in words."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from multichat.desktop.client.outbox import Outbox
from multichat.desktop.client.uploads import Attachment, UploadState, guess_type, pasted_image_name
from multichat.desktop.services.downloads import (
    FALLBACK_NAME,
    create_unique,
    default_folder,
    safe_file_name,
    split_suffix,
    unique_path,
)
from multichat.desktop.services.file_words import (
    files_summary,
    format_size,
    limit_from_detail,
    quota_words,
    too_large_words,
)
from multichat.protocol.commands import Send
from multichat.protocol.frames import FileObj


@pytest.mark.parametrize(("given", "safe"), [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\win.ini", "win.ini"),
    (".bashrc", "bashrc"),
    ("...", FALLBACK_NAME),
    ("..", FALLBACK_NAME),
    ("", FALLBACK_NAME),
    ("a/b/", FALLBACK_NAME),
    ("line\nbreak\x00.txt", "line_break_.txt"),
    ("what?.txt", "what_.txt"),
    ("CON.txt", "_CON.txt"),
    ("trailing dot. ", "trailing dot"),
    ("Ünïcødé 文件.png", "Ünïcødé 文件.png"),
])
def test_a_server_given_name_cannot_leave_the_folder_or_hide(given: str, safe: str) -> None:
    assert safe_file_name(given) == safe


def test_a_very_long_name_keeps_its_extension() -> None:
    safe = safe_file_name("x" * 400 + ".pdf")
    assert len(safe) <= 200 and safe.endswith(".pdf")


def test_suffixes_split_for_numbering() -> None:
    assert split_suffix("report.pdf") == ("report", ".pdf")
    assert split_suffix("logs.tar.gz") == ("logs", ".tar.gz")
    assert split_suffix("README") == ("README", "")
    assert split_suffix(".hidden") == (".hidden", "")


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"mine")
    (tmp_path / "report (1).pdf").write_bytes(b"mine too")
    assert unique_path(tmp_path, "report.pdf") == tmp_path / "report (2).pdf"
    path, fd = create_unique(tmp_path, "report.pdf")
    os.close(fd)
    assert path == tmp_path / "report (2).pdf"
    assert (tmp_path / "report.pdf").read_bytes() == b"mine"
    assert (tmp_path / "report (1).pdf").read_bytes() == b"mine too"
    second, fd = create_unique(tmp_path, "../report.pdf")
    os.close(fd)
    assert second == tmp_path / "report (3).pdf"


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    path, fd = create_unique(tmp_path / "Downloads", "a.txt")
    os.close(fd)
    assert path.parent.is_dir()


@pytest.mark.parametrize(("size", "words"), [
    (0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1 KB"), (1536, "1.5 KB"),
    (10 * 1024 + 300, "10 KB"), (25 * 2**20, "25 MB"), (int(2.4 * 2**30), "2.4 GB"),
])
def test_sizes_read_as_file_managers_show_them(size: int, words: str) -> None:
    assert format_size(size) == words


def test_too_large_names_the_limit() -> None:
    assert too_large_words("big.iso", None) == \
        "“big.iso” is larger than the server allows (25 MiB)."
    assert limit_from_detail("the file is over 10485760 bytes") == 10 * 2**20
    assert too_large_words("a", limit_from_detail("at most 10485760 bytes")).endswith(
        "(10 MiB).")
    assert too_large_words("a", 1000).endswith("(1000 bytes).")
    assert quota_words("a.zip", limit_from_detail(
        "uploads are limited to 104857600 bytes a day per user; try again later")) == (
        "“a.zip” was not sent: you have uploaded as much as the server allows (100 MiB a "
        "day); try again later.")


def test_files_in_a_line() -> None:
    assert files_summary([]) == ""
    assert files_summary(["a.png"]) == "📎 a.png"
    assert files_summary(["a.png", "b.pdf", "c.txt"]) == "📎 a.png and 2 more files"


def test_types_and_pasted_names() -> None:
    assert guess_type("photo.PNG") == "image/png"
    assert guess_type("thing.unknownext") == "application/octet-stream"
    name = pasted_image_name(datetime(2026, 12, 7, 14, 3, 27))
    assert name == "Pasted image 2026-12-07 14.03.27.png"
    assert ":" not in name and "/" not in name


def test_a_message_waits_for_its_files_then_carries_their_ids() -> None:
    outbox = Outbox()
    a = Attachment.from_bytes("a.txt", b"aa")
    b = Attachment.from_bytes("b.png", b"bb")
    item = outbox.add("1", "", None, (a, b))
    assert item.waiting_for_files
    first = outbox.next_upload()
    assert first is not None and first.attachment is a
    assert outbox.stored(first, FileObj("id-a", "a.txt", 2, "text/plain", "00")) is None
    second = outbox.next_upload()
    assert second is not None and second.attachment is b
    ready = outbox.stored(second, FileObj("id-b", "b.png", 2, "image/png", "00"))
    assert ready is item
    assert ready is not None and not ready.waiting_for_files
    assert isinstance(item.command, Send) and item.command.files == ("id-a", "id-b")
    assert outbox.next_upload() is None


def test_dropping_the_only_file_of_an_empty_message_drops_the_message() -> None:
    outbox = Outbox()
    item = outbox.add("1", "", None, (Attachment.from_bytes("a.txt", b"aa"),))
    key = item.uploads[0].key
    assert outbox.drop_upload(key) is item
    assert outbox.get(item.client_id) is None
    with_text = outbox.add("1", "look", None, (Attachment.from_bytes("a.txt", b"aa"),))
    outbox.drop_upload(with_text.uploads[0].key)
    kept = outbox.get(with_text.client_id)
    assert kept is not None
    assert not kept.waiting_for_files
    assert isinstance(kept.command, Send) and kept.command.files is None


def test_a_lost_connection_starts_a_file_again_but_keeps_a_stored_one() -> None:
    outbox = Outbox()
    item = outbox.add("1", "", None, (Attachment.from_bytes("a", b"1"),
                                      Attachment.from_bytes("b", b"2")))
    done, half = item.uploads
    outbox.stored(done, FileObj("x", "a", 1, "text/plain", "00"))
    half.state, half.sent = UploadState.SENDING, 1
    for upload in item.uploads:
        upload.restart()
    assert done.state is UploadState.STORED
    assert (half.state, half.sent) == (UploadState.WAITING, 0)


def test_an_unreadable_path_is_refused_when_attached(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Attachment.from_path(tmp_path / "missing.txt")
    with pytest.raises(IsADirectoryError):
        Attachment.from_path(tmp_path)
    (tmp_path / "ok.pdf").write_bytes(b"%PDF")
    attachment = Attachment.from_path(tmp_path / "ok.pdf")
    assert (attachment.name, attachment.size, attachment.type) == ("ok.pdf", 4,
                                                                    "application/pdf")


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG user dirs are Linux's")
def test_downloads_go_to_the_persons_downloads_folder(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user-dirs.dirs
    assert default_folder() == tmp_path / "Downloads"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "user-dirs.dirs").write_text(
        'XDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n')
    assert default_folder() == tmp_path / "Téléchargements"  # where the desktop says
