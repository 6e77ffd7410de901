"""Derived models live in the user's cache directory unless a variable names another."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.core.cache_dirs import user_cache_dir


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
