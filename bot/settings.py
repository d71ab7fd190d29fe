"""Typed settings from the environment or a ``.env`` file, in one place.

The token is a :class:`~pydantic.SecretStr`: it never appears in a repr, a log line or
an exception. Only ``membrane-tutor run`` and ``sync`` need it; ``health`` reads only the
health file's path, and the offline commands never read settings at all.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting design.md names; environment variables win over ``.env``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot token (required to run).")
    tutor_db: Path = Field(default=Path("membrane-tutor.db"), description="SQLite database path.")
    discord_api_base: str | None = Field(default=None, description="REST base URL override (proxy or emulator).")
    discord_gateway_url: str | None = Field(default=None, description="Gateway URL override (emulator).")
    tutor_hash_key: SecretStr | None = Field(default=None, description="Secret for pseudonymous user ids.")
    tutor_retention_days: int = Field(default=180, ge=1, description="Days interaction rows are kept.")
    log_level: str = Field(default="INFO", description="Python logging level name.")
    tutor_health_file: Path | None = Field(
        default=None, description="Health file `membrane-tutor health` reads (default: health.json beside TUTOR_DB)."
    )

    tutor_figure_timeout: float = Field(
        default=5.0, gt=0, le=14.0, description="Seconds a figure may take before the text goes without it."
    )
    tutor_figure_workers: int = Field(default=2, ge=1, le=8, description="Figures drawn at once.")
    tutor_log_interactions: bool = Field(
        default=True, description="Keep the interaction log (off: nothing is stored; /stats has nothing to show)."
    )

    def token(self) -> str | None:
        """The token's value, for discord.py only; empty counts as missing."""
        if self.discord_token is None:
            return None
        return self.discord_token.get_secret_value().strip() or None

    def health_file(self) -> Path:
        """Where ``run`` writes its health record: TUTOR_HEALTH_FILE, else health.json beside the database."""
        if self.tutor_health_file is not None and self.tutor_health_file != Path():  # an empty value is unset
            return self.tutor_health_file
        return self.tutor_db.parent / "health.json"
