"""One typed settings object for the whole product.

Values come, in rising order of precedence, from defaults, an optional TOML file
(``SOCIALDESK_CONFIG_FILE`` or ``socialdesk.toml`` in the working directory) and
environment variables with the ``SOCIALDESK_`` prefix.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path:
    return Path(os.environ.get("SOCIALDESK_CONFIG_FILE", "socialdesk.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCIALDESK_", extra="ignore")

    data_dir: Path = Field(
        default=Path("socialdesk-data"),
        description="Where the embedded database and other local state live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means embedded SQLite in data_dir.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for scale mode (Redis Streams between stages).",
    )
    stream_prefix: str = Field(
        default="socialdesk:",
        min_length=1,
        max_length=64,
        description="Prefix of scale mode's Redis keys: one per deployment sharing a Redis "
        "(web processes and workers of one deployment must use the same).",
    )
    mode: Literal["embedded", "scale"] = "embedded"
    default_workspace: str = "demo"
    secret_key: str = Field(
        default="change-me-in-production",
        description="Signs sessions and encrypts channel credentials at rest.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_ingest_text_chars: int = 100_000
    log_level: str = "INFO"
    meta_graph_version: str = Field(
        default="v26.0",
        pattern=r"^v\d+\.\d+$",
        description="Graph API version the Facebook and Instagram connectors call (e.g. v26.0).",
    )
    retention_check_minutes: float = Field(
        default=10,
        ge=0,
        description="How often the server looks for workspaces due their daily retention "
        "prune (0: never; prune from cron with `socialdesk compliance prune`).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object a line, with message ids"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml, file_secret_settings)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'socialdesk.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
