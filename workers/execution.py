"""Running an approved tool for real: broker, sandbox, evidence, upload.

One broker serves a whole job, so the AWS identity is looked up once and every call of every run is
recorded. What a run produces is moved into the job's evidence folder, hashed into the manifest and
uploaded to the thread before Claude hears about it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from workers.broker import Broker, BrokerConfig
from workers.console_signin import console_login_url
from workers.conversation import Conversation
from workers.evidence import JobEvidence
from workers.evidence_window import iso
from workers.redaction import cap, redact
from workers.registry import Registry, ToolVersion
from workers.sandbox import run_tool
from workers.sandbox_launch import SandboxOptions
from workers.settings import Settings
from workers.tool_contract import spec_from_source


class AwsUnavailable(Exception):
    """AWS cannot be reached as configured; the message says what to set."""


@dataclass
class Outcome:
    """What goes back to Claude for one tool call; `not_collected` are the runtime's checks that failed."""

    text: str
    is_error: bool
    files: list[Path] = field(default_factory=list)
    not_collected: list[str] = field(default_factory=list)


def json_default(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class ToolExecutor:
    """Runs approved versions against real AWS through one broker per job."""

    def __init__(self, settings: Settings, registry: Registry, evidence: JobEvidence,
                 conversation: Conversation, should_stop: Callable[[], bool] | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.evidence = evidence
        self.conversation = conversation
        self._broker: Broker | None = None
        self.should_stop = should_stop

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            self._broker = Broker(
                BrokerConfig(region=self.settings.region, endpoint_url=self.settings.aws_endpoint_url,
                             role_arn=self.settings.auditbot_readonly_role_arn, job_id=self.evidence.directory.name),
                console_login=self._console_login,
            )
        return self._broker

    def identity(self) -> dict[str, str]:
        """Account, caller ARN, partition and region, for the manifest; a clear error without credentials."""
        try:
            return {"account": self.broker.account_id, "caller_arn": self.broker.caller_arn,
                    "partition": self.broker.partition, "region": self.settings.region}
        except NoCredentialsError:
            raise AwsUnavailable(
                "No AWS credentials are configured for the worker: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or run `auditbot chat --simulated-aws`)."
            ) from None
        except (ClientError, BotoCoreError) as exc:
            raise AwsUnavailable(f"AWS did not confirm the worker's identity (sts:GetCallerIdentity): {exc}") from None

    def run(self, version: ToolVersion, params: dict[str, Any]) -> Outcome:
        spec = spec_from_source(version.name, version.source)
        try:
            jsonschema.validate(params, spec.parameters)
        except jsonschema.ValidationError as exc:
            return Outcome(f"arguments for {version.name} do not match its PARAMETERS: {exc.message}", True)
        identity = self.identity()
        self.evidence.manifest.setdefault("identity", identity)
        path = self.registry.materialise(version)
        self.conversation.status(f"Running {version.name} v{version.version} ...")
        with tempfile.TemporaryDirectory(prefix="auditbot-run-") as scratch:
            run = run_tool(path, version.name, params=params, output_dir=Path(scratch), broker=self.broker,
                           on_progress=self._progress(version.name),
                           timeout=self.settings.auditbot_tool_timeout_seconds,
                           console_url=self.settings.auditbot_console_url, code_sha256=version.sha256,
                           sandbox=SandboxOptions.from_settings(self.settings), should_stop=self.should_stop)
            record = {
                "tool": version.name, "version": version.version, "code_sha256": version.sha256,
                "approver": version.approver, "approved_at": version.decided_at, "params": params,
                "defaults": {name: schema["default"] for name, schema in spec.parameters.get("properties", {}).items()
                             if isinstance(schema, dict) and "default" in schema and name not in params},
                "started": iso(run.started_at), "ended": iso(run.ended_at), "ok": run.ok,
                "summary": (run.value or {}).get("summary") if run.ok else None,
                "error": redact(run.error or "", self.settings.secret_values) if not run.ok else None,
                "api_calls": [c.to_dict() for c in run.calls],
            }
            files = self.evidence.add_run(record, run.files)
        for file in files:
            self.conversation.upload(file, title=file.name)
        return self._outcome(version, run.ok, run.value, run.error, files, record["api_calls"])

    def _outcome(self, version: ToolVersion, ok: bool, value: dict | None, error: str | None,
                 files: list[Path], calls: list[dict[str, Any]]) -> Outcome:
        secrets = self.settings.secret_values
        if not ok:
            return Outcome(cap(redact(f"{version.name} v{version.version} failed:\n{error}", secrets)), True, files)
        problems = [f"{c['service']}:{c['operation']} stopped before its last page"
                    for c in calls if c.get("pagination_complete") is False]
        problems += [f"{f.name} is empty" for f in files if f.stat().st_size == 0]
        listed = {entry["name"] for entry in self.evidence.manifest.get("files", [])}
        problems += [f"{f.name} is not in the manifest" for f in files if f.name not in listed]
        if not isinstance(value, dict) or not str(value.get("summary") or "").strip():
            problems.append("run() returned no summary")
        body = {"result": value, "evidence_files": [{"name": f.name, "bytes": f.stat().st_size} for f in files]}
        if problems:
            body["not_collected"] = problems
        text = cap(redact(json.dumps(body, default=json_default, indent=1), secrets))
        return Outcome(text, bool(problems), files, problems)

    def _progress(self, tool: str):
        def report(line: str) -> None:
            self.conversation.status(f"{tool}: {redact(line, self.settings.secret_values)[:300]}")
        return report

    def _console_login(self, destination: str) -> str:
        return console_login_url(self.broker.boto_client("sts"), signin_url=self.settings.auditbot_console_signin_url,
                                 destination=destination, session_name="auditbot")
