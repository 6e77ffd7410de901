"""Settings come from defaults, a TOML file and SOCIALDESK_ environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.config import Settings


def test_defaults_give_an_embedded_database_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SOCIALDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SOCIALDESK_CONFIG_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SOCIALDESK_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert settings.mode == "embedded"
    assert (
        settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'socialdesk.sqlite3'}"
    )


def test_a_toml_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "socialdesk.toml"
    config.write_text('default_workspace = "acme"\nport = 9000\n', encoding="utf-8")
    monkeypatch.setenv("SOCIALDESK_CONFIG_FILE", str(config))
    monkeypatch.setenv("SOCIALDESK_PORT", "9100")
    settings = Settings()
    assert settings.default_workspace == "acme"
    assert settings.port == 9100


def test_a_bad_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCIALDESK_CONFIG_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SOCIALDESK_MODE", "cluster")
    with pytest.raises(ValueError, match="mode"):
        Settings()
