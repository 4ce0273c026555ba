"""Configuration from the environment (and `.env`), validated once at start.

Every variable of the contract is here; a missing or malformed value stops a command
with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL = "claude-sonnet-4-5"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "auditbot"


def _split_csv(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v).strip() for v in value]  # type: ignore[union-attr]


class Settings(BaseSettings):
    """The product's settings; field names are the environment variables, lower-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    anthropic_api_key: SecretStr | None = None
    auditbot_model: str = DEFAULT_MODEL
    auditbot_max_turns: int = Field(default=12, ge=1, le=100)
    auditbot_token_budget: int = Field(default=400_000, ge=1_000)
    auditbot_max_fix_rounds: int = Field(default=2, ge=0, le=10)

    redis_url: str = "redis://localhost:6379/0"

    aws_region: str | None = None
    aws_endpoint_url: str | None = None

    auditbot_evidence_dir: Path = Path.home() / "Documents" / "audit-evidence"
    auditbot_data_dir: Path = Field(default_factory=_default_data_dir)
    auditbot_fiscal_year_start_month: int = Field(default=1, ge=1, le=12)

    auditbot_approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    auditbot_four_eyes: bool = True
    auditbot_auto_approve: bool = False
    auditbot_approval_ttl_hours: float = Field(default=72.0, gt=0)

    auditbot_console_signin_url: str = "https://signin.aws.amazon.com/federation"
    auditbot_console_url: str = "https://console.aws.amazon.com/"
    auditbot_public_url: str | None = None
    port: int = Field(default=3000, ge=1, le=65535)

    auditbot_tool_timeout_seconds: float = Field(default=300.0, gt=0)
    auditbot_sandbox: str = "on"

    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    teams_token_url: str | None = None
    teams_service_url_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com"]
    )

    @field_validator("auditbot_approvers", "teams_service_url_hosts", mode="before")
    @classmethod
    def _csv(cls, value: object) -> list[str]:
        return _split_csv(value)

    @property
    def region(self) -> str:
        return self.aws_region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    @property
    def public_url(self) -> str:
        return (self.auditbot_public_url or f"http://localhost:{self.port}").rstrip("/")

    @cached_property
    def secret_values(self) -> list[str]:
        """Values that must never reach a log, a message, a prompt or a tool's environment."""
        secrets = [
            v.get_secret_value()
            for v in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.anthropic_api_key,
                self.teams_app_password,
            )
            if v is not None
        ]
        for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if os.environ.get(name):
                secrets.append(os.environ[name])
        return [s for s in secrets if len(s) >= 8]


class ConfigError(SystemExit):
    """A configuration problem, reported as one line naming the variable."""


def load_settings(**overrides: object) -> Settings:
    """Build the settings or stop with one clear line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "configuration"
        raise ConfigError(f"auditbot: configuration error in {name}: {first['msg']}") from None


def require(settings: Settings, *names: str) -> None:
    """Stop with a clear line when a variable a command needs is unset."""
    for name in names:
        if getattr(settings, name.lower()) in (None, ""):
            raise ConfigError(f"auditbot: {name} is required for this command but is not set")
