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

from workers.freshness import check_period

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
    auditbot_evidence_key: Path | None = None
    auditbot_evidence_bucket: str | None = None
    auditbot_evidence_retention_days: int = Field(default=2557, ge=1, le=36500)
    auditbot_evidence_renewal: str = "1y"
    auditbot_evidence_renewal_by_tool: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)

    auditbot_approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    auditbot_four_eyes: bool = True
    auditbot_auto_approve: bool = False
    auditbot_approval_ttl_hours: float = Field(default=72.0, gt=0)

    # Who may use the bot in chat (empty: everyone) and how often (requests per window, sliding).
    auditbot_allowed_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    auditbot_allowed_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    auditbot_user_requests_per_window: int = Field(default=20, ge=0)
    auditbot_channel_requests_per_window: int = Field(default=60, ge=0)
    auditbot_rate_window_seconds: int = Field(default=3600, ge=1)

    auditbot_console_signin_url: str = "https://signin.aws.amazon.com/federation"
    auditbot_console_url: str = "https://console.aws.amazon.com/"
    auditbot_public_url: str | None = None
    port: int = Field(default=3000, ge=1, le=65535)

    auditbot_tool_timeout_seconds: float = Field(default=300.0, gt=0)
    auditbot_sandbox: str = "on"
    auditbot_sandbox_uid: int = Field(default=200_000, ge=1)
    auditbot_sandbox_uids: int = Field(default=10_000, ge=1)
    auditbot_sandbox_python: str = "/usr/bin/python3"
    auditbot_sandbox_memory_mb: int = Field(default=1024, ge=256)
    auditbot_readonly_role_arn: str | None = None

    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    teams_token_url: str | None = None
    teams_service_url_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com"]
    )
    # Read only to be refused: the Teams SDK's switch that turns inbound authentication off.
    dangerously_allow_unauthenticated_requests: bool = False

    @field_validator("auditbot_approvers", "teams_service_url_hosts", "auditbot_allowed_channels",
                     "auditbot_allowed_users", mode="before")
    @classmethod
    def _csv(cls, value: object) -> list[str]:
        return _split_csv(value)

    @field_validator("dangerously_allow_unauthenticated_requests")
    @classmethod
    def _never_unauthenticated(cls, value: bool) -> bool:
        if value:
            raise ValueError("auditbot never accepts unauthenticated Teams activities; unset this variable")
        return value

    @field_validator("auditbot_evidence_renewal_by_tool", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> dict[str, str]:
        if isinstance(value, dict):
            return {str(k): check_period(str(v)) for k, v in value.items()}
        pairs = [part.partition("=") for part in _split_csv(value)]
        if any(not name.strip() for name, _, _ in pairs):
            raise ValueError("expected tool=period pairs, e.g. aws_take_screenshot=90d,list_aws_resources=fy")
        return {name.strip(): check_period(period) for name, _, period in pairs}

    @field_validator("auditbot_evidence_renewal")
    @classmethod
    def _period(cls, value: str) -> str:
        return check_period(value)

    @property
    def evidence_key_path(self) -> Path:
        """The evidence signing key (ed25519, PEM); created on first use."""
        return self.auditbot_evidence_key or self.auditbot_data_dir / "evidence-signing-key.pem"

    @property
    def region(self) -> str:
        return self.aws_region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    @property
    def public_url(self) -> str:
        return (self.auditbot_public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id)

    @property
    def teams_token_endpoint(self) -> str:
        """Entra's client-credentials endpoint: the bot's own tenant when set, else Bot Framework's."""
        tenant = self.teams_tenant_id or "botframework.com"
        return self.teams_token_url or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

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
        value = getattr(settings, name.lower())
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value in (None, ""):
            raise ConfigError(f"auditbot: {name} is required for this command but is not set")
