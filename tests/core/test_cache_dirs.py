"""Derived models live in the user's cache directory unless a variable names another."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from socialdesk.core.cache_dirs import mark_used, remove_unused, user_cache_dir


def test_the_variable_names_the_directory_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOCIALDESK_TRIAGE_CACHE", str(tmp_path / "seeds"))

    assert user_cache_dir("SOCIALDESK_TRIAGE_CACHE", "triage") == tmp_path / "seeds"


def test_without_it_the_user_cache_directory_holds_a_socialdesk_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SOCIALDESK_TRIAGE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir("SOCIALDESK_TRIAGE_CACHE", "triage") == tmp_path / "socialdesk/triage"

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home/.cache/socialdesk/triage"
    assert user_cache_dir("SOCIALDESK_TRIAGE_CACHE", "triage") == expected


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCIALDESK_EMBEDDING_CACHE", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    assert user_cache_dir("SOCIALDESK_EMBEDDING_CACHE", "embedding") == (
        tmp_path / "socialdesk/embedding"
    )


DAY = 24 * 3600.0


def _entry(directory: Path, name: str, *, used_days_ago: float, now: float) -> Path:
    entry = directory / name
    entry.mkdir()
    (entry / "model.onnx").write_bytes(b"model")
    marker = entry / "manifest.json"
    marker.write_text("{}", encoding="utf-8")
    stamp = now - used_days_ago * DAY
    os.utime(marker, (stamp, stamp))
    return entry


def test_entries_unused_for_a_month_are_removed_and_the_rest_kept(tmp_path: Path) -> None:
    now = time.time()
    stale = _entry(tmp_path, "minilm-int8-old", used_days_ago=45, now=now)
    stale_top = _entry(tmp_path, "top-int8-old", used_days_ago=31, now=now)
    recent = _entry(tmp_path, "minilm-fp32-recent", used_days_ago=29, now=now)
    kept = _entry(tmp_path, "minilm-int8-new", used_days_ago=400, now=now)
    other = _entry(tmp_path, "someone-elses", used_days_ago=400, now=now)
    stray_file = tmp_path / "minilm-notes"
    stray_file.write_text("not an entry", encoding="utf-8")

    removed = remove_unused(
        tmp_path, ("minilm-*", "top-*"), keep=kept, marker="manifest.json", now=now
    )

    assert sorted(removed) == sorted([stale, stale_top])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [recent.name, kept.name, other.name, stray_file.name]
    )


def test_an_entry_without_its_marker_is_judged_by_its_own_age(tmp_path: Path) -> None:
    now = time.time()
    half_built = tmp_path / "top-int8-half"
    half_built.mkdir()
    old = now - 60 * DAY
    os.utime(half_built, (old, old))
    just_started = tmp_path / "top-int8-started"
    just_started.mkdir()

    removed = remove_unused(
        tmp_path, ("top-*",), keep=tmp_path / "none", marker="manifest.json", now=now
    )

    assert removed == [half_built]
    assert just_started.exists()


def test_using_an_entry_marks_it_as_used_now(tmp_path: Path) -> None:
    now = time.time()
    entry = _entry(tmp_path, "minilm-int8-a", used_days_ago=90, now=now)

    mark_used(entry / "manifest.json")

    assert remove_unused(tmp_path, ("minilm-*",), keep=tmp_path, marker="manifest.json") == []
    mark_used(tmp_path / "gone" / "manifest.json")  # a vanished entry is no error


def test_a_file_entry_is_judged_by_its_own_age(tmp_path: Path) -> None:
    now = time.time()
    old, recent = tmp_path / "seed-kind-old.npz", tmp_path / "seed-kind-recent.npz"
    for path, days in ((old, 31), (recent, 2)):
        path.write_bytes(b"model")
        os.utime(path, (now - days * DAY, now - days * DAY))
    folder = _entry(tmp_path, "seed-kind-folder.npz", used_days_ago=90, now=now)

    removed = remove_unused(tmp_path, ("seed-kind-*.npz",), keep=tmp_path / "x", now=now)

    assert removed == [old]
    assert recent.exists() and folder.exists()  # a folder needs its marker's name to be judged
