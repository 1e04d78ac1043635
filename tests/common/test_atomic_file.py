"""Atomic replacement: a failure part-way leaves the old file and no temporary file behind."""

from __future__ import annotations

import os
import stat

import pytest

from common import atomic_file
from common.atomic_file import write_text_atomically


def test_a_write_replaces_the_file_whole_and_only_its_owner_may_read_it(tmp_path):
    path = tmp_path / "release.json"
    write_text_atomically(path, "old")
    write_text_atomically(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["release.json"]


def test_a_failure_before_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "release.json"
    write_text_atomically(path, "old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomically(path, "new")
    assert path.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["release.json"]
