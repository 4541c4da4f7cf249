"""Settings of the HTTP API, read from ``SCAMSCAN_*`` environment variables."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the API can be configured with; each field is ``SCAMSCAN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SCAMSCAN_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    """Address ``scamscan serve`` binds to by default."""
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=65536, ge=1)
    """Largest accepted request body, counted as it streams in (413 above it)."""
    default_lang: Literal["vi", "en"] = "vi"
    """Language of titles and reasons when a request names none."""
    log_level: str = "INFO"
    redis_url: str | None = None
    """Unused for now: the queue and cache come with the service issue."""

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        level = v.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {v!r}")
        return level


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
