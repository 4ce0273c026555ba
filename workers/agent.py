"""The agent loop: Claude picks tools, the worker runs them, until an answer or a human is needed.

Each turn is checkpointed in Redis. A call to a tool whose new version awaits approval parks the job
(state kept, worker freed); the decision resumes it with the decision as that call's result. An
unknown tool, a bad argument or a raising tool becomes an `is_error` result for Claude, never a crash
of the loop. Turns and tokens are bounded per request.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anthropic
import redis

from workers import messages
from workers.agent_tools import AGENT_TOOL_NAMES, AGENT_TOOLS, CODE_WRITING_TOOLS
from workers.approvals import ApprovalDesk
from workers.conversation import Conversation
from workers.evidence import JobEvidence
from workers.evidence_config import evidence_parts
from workers.evidence_texts import manifest_comment, signature_title
from workers.evidence_window import iso
from workers.execution import AwsUnavailable, Outcome, ToolExecutor
from workers.job_state import JobState, JobStore, unfinished_call_result
from workers.prompts import SYSTEM_PROMPT
from workers.redaction import redact
from workers.registry import Registry, ToolVersion
from workers.settings import Settings
from workers.tool_catalog import ToolCatalog
from workers.tool_contract import ContractError, spec_from_source
from workers.tool_usage import ToolUsage
from workers.toolsmith import SelftestRunner, Toolsmith, approvable, report_text

MAX_OUTPUT_TOKENS = 8192
FIND_TOOLS_LIMIT = 10
CACHE = {"type": "ephemeral"}


class LLMUnavailable(Exception):
    """Claude stayed overloaded or unreachable after the SDK's retries; the job can be retried."""


class Cancelled(Exception):
    """The user cancelled the job; raised at a check between steps and handled in `Agent.run`."""


@dataclass
class Services:
    """What an agent needs from the process it runs in."""

    settings: Settings
    conn: redis.Redis
    registry: Registry
    jobs: JobStore
    approvals: ApprovalDesk
    llm: anthropic.Anthropic
    selftest: SelftestRunner


@dataclass
class Park:
    """A tool call that must wait for a human decision on `tool` v`version`."""

    tool: str
    version: int


def block_dict(block: Any) -> dict[str, Any] | None:
    """The parts of a response block worth keeping in the conversation."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return None


def tool_result(block: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": block["id"], "content": outcome.text, "is_error": outcome.is_error}


def unanswered_calls(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls of a last assistant turn that got no results: a worker died while running them."""
    last = history[-1] if history else {}
    if last.get("role") != "assistant" or not isinstance(last.get("content"), list):
        return []
    return [b for b in last["content"] if b.get("type") == "tool_use"]


def with_cache_breakpoint(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark the newest message so the whole conversation so far is cached for the next turn."""
    marked = copy.deepcopy(history)
    last = marked[-1]
    if isinstance(last["content"], str):
        last["content"] = [{"type": "text", "text": last["content"]}]
    last["content"][-1]["cache_control"] = CACHE
    return marked


class Agent:
    """Runs one job's tool-use loop against one conversation."""

    def __init__(self, services: Services, job: JobState, conversation: Conversation) -> None:
        self.s = services
        self.job = job
        self.chat = conversation
        self.settings = services.settings
        self.registry: Registry = services.registry
        self.approvals: ApprovalDesk = services.approvals
        self.usage = ToolUsage(services.conn)
        self.catalog = ToolCatalog(self.registry, self.usage)
        self.toolsmith = Toolsmith(self.registry, services.selftest, requested_by={
            "job_id": job.id, "user": job.thread.user, "channel": job.thread.channel,
            "surface": job.thread.surface, "request": job.request[:500],
        }, catalog=self.catalog)
        self.evidence = JobEvidence.open(
            self.settings.auditbot_evidence_dir, job.id,
            datetime.fromisoformat(job.created_at), self.settings.auditbot_fiscal_year_start_month,
            header={
                "job": job.id,
                "request": {"text": job.request, "user": job.thread.user, "channel": job.thread.channel,
                            "thread": job.thread.thread, "surface": job.thread.surface, "time": job.created_at},
                "model": self.settings.auditbot_model,
                "collection": {"started": iso(datetime.now(UTC))},
            },
            **evidence_parts(self.settings),
        )
        job.evidence_dir = str(self.evidence.directory)
        self._tell_store_problem()
        self.executor = ToolExecutor(self.settings, self.registry, self.evidence, conversation,
                                     should_stop=lambda: bool(services.jobs.cancel_requested(job.id)))
        self.aws_problem_told = False

    # --- the loop --------------------------------------------------------------------------
    def run(self) -> str:
        """Run or resume until the answer ("done"), a human decision ("parked"), a limit ("stopped") or the
        user's cancel ("cancelled", checked between Claude turns and tool calls; a running tool is killed)."""
        try:
            return self._run()
        except Cancelled:
            return self._cancelled()

    def _run(self) -> str:
        self.job.status = "running"
        self.job.started_at = self.job.started_at or iso(datetime.now(UTC))
        history = self.s.jobs.messages(self.job.id) or [{"role": "user", "content": self.job.request}]
        if self.job.pending and self._resume(history) and not self._decided_meanwhile(history):
            return "parked"
        unanswered = unanswered_calls(history) if not self.job.pending else []
        if unanswered:
            self.chat.post(messages.resumed_after_interruption(len(unanswered)))
            if self._process(history, unanswered, results=[]) and not self._decided_meanwhile(history):
                return "parked"
        while True:
            self._check_cancel(history)
            limit = self._limit_reached()
            if limit:
                return self._stop(limit)
            self.chat.status(f"Thinking (turn {self.job.turns + 1}) ...")
            response = self._ask_claude(history)
            blocks = [b for b in (block_dict(b) for b in response.content) if b]
            history.append({"role": "assistant", "content": blocks})
            self.job.turns += 1
            self.job.input_tokens += response.usage.input_tokens + (response.usage.cache_read_input_tokens or 0) \
                + (response.usage.cache_creation_input_tokens or 0)
            self.job.output_tokens += response.usage.output_tokens
            self.s.jobs.checkpoint(self.job, history)
            calls = [b for b in blocks if b["type"] == "tool_use"]
            if response.stop_reason != "tool_use" or not calls:
                return self._finish(history, "".join(b["text"] for b in blocks if b["type"] == "text"))
            if self._process(history, calls, results=[]) and not self._decided_meanwhile(history):
                return "parked"

    def _process(self, history: list[dict[str, Any]], calls: list[dict[str, Any]],
                 results: list[dict[str, Any]]) -> bool:
        """Run tool calls in order; True when one of them parked the job."""
        for index, block in enumerate(calls):
            self._check_cancel(history, calls[index:], results)
            outcome = self._execute(block)
            if isinstance(outcome, Park):
                self.job.pending = {"tool": outcome.tool, "version": outcome.version, "call": block,
                                    "results": results, "remaining": calls[index + 1:]}
                self.job.status = "parked"
                self.s.jobs.checkpoint(self.job, history)
                self.chat.status(messages.waiting_for_approval(outcome.tool, outcome.version), final=True)
                return True
            results.append(tool_result(block, outcome))
        history.append({"role": "user", "content": results})
        self.s.jobs.checkpoint(self.job, history)
        return False

    def _decided_meanwhile(self, history: list[dict[str, Any]]) -> bool:
        """Close the race with a click that landed while parking: resume now instead of waiting."""
        while self.job.pending:
            version = self.registry.get(self.job.pending["tool"], self.job.pending["version"])
            if version is None or version.status == "pending":
                return False
            self.job.status = "running"
            if not self._resume(history):
                return True
        return True

    def _resume(self, history: list[dict[str, Any]]) -> bool:
        """Feed the human decision back as the parked call's result, then go on."""
        pending, self.job.pending = self.job.pending or {}, None
        version = self.registry.get(pending["tool"], pending["version"])
        block = pending["call"]
        if version is not None and version.status == "approved":
            outcome = self._run_version(version, block["input"])
        elif version is not None and version.status == "rejected":
            outcome = Outcome(messages.rejected_result(version.name, version.version, version.approver or "?"), True)
        else:
            outcome = Outcome(messages.expired_result(pending["tool"], pending["version"]), True)
        results = [*pending["results"], tool_result(block, outcome)]
        return self._process(history, pending["remaining"], results)

    # --- one tool call ---------------------------------------------------------------------
    def _execute(self, block: dict[str, Any]) -> Outcome | Park:
        name, args = block["name"], block["input"] if isinstance(block["input"], dict) else {}
        try:
            if name == "find_tools":
                return self._find_tools(str(args.get("query", "")))
            if name in AGENT_TOOL_NAMES:
                return self._toolsmith(name, args)
            return self._registry_tool(name, args)
        except AwsUnavailable as exc:
            if not self.aws_problem_told:
                self.chat.post(str(exc))
                self.aws_problem_told = True
            return Outcome(str(exc), True)
        except Exception as exc:  # noqa: BLE001 - any failure becomes an error result, never a dead loop
            return Outcome(f"{name} failed inside auditbot: {type(exc).__name__}: {exc}", True)

    def _find_tools(self, query: str) -> Outcome:
        """More candidates than the request's retrieval offered; they stay offered for the rest of the job."""
        found = self.catalog.search(query, FIND_TOOLS_LIMIT)
        if not found:
            return Outcome(f"No approved tool matches {query!r}; consider writing one.", False)
        offered = self._offered()
        self.job.offered = sorted({*offered, *(c.name for c in found)})
        return Outcome(json.dumps([c.to_dict() | {"parameters": c.parameters} for c in found], indent=1), False)

    def _toolsmith(self, name: str, args: dict[str, Any]) -> Outcome:
        if name == "fix_tool_code":
            tool = str(args.get("tool_name", ""))
            rounds = self.job.fix_rounds.get(tool, 0)
            if rounds >= self.settings.auditbot_max_fix_rounds:
                self.chat.post(messages.repair_limit(tool, rounds))
                return Outcome(messages.repair_limit_result(tool, rounds), True)
            self.job.fix_rounds[tool] = rounds + 1
        if name in CODE_WRITING_TOOLS:
            self.chat.status(f"Writing code: {name} ...")
        elif name == "test_tool":
            self.chat.status(f"Testing {args.get('tool_name')} against simulated AWS ...")
        result = self.toolsmith.handle(name, args)
        if result.version is not None and approvable(result.version):
            self._open_card(result.version)
        return Outcome(redact(result.text, self.settings.secret_values), result.is_error)

    def _registry_tool(self, name: str, args: dict[str, Any]) -> Outcome | Park:
        latest = self.registry.latest(name)
        if latest is None:
            return Outcome(messages.unknown_tool(name, self.registry.names()), True)
        mine = latest.requested_by.get("job_id") == self.job.id
        if mine and latest.status == "pending":
            if not approvable(latest):
                return Outcome(f"{name} v{latest.version} cannot be approved yet:\n{report_text(latest)}", True)
            if f"{name}:{latest.version}" not in self.job.cards:
                self._open_card(latest)
            latest = self.registry.get(name, latest.version) or latest
            if latest.status == "pending":
                return Park(name, latest.version)
        if mine and latest.status == "rejected":
            return Outcome(messages.rejected_result(name, latest.version, latest.approver or "?"), True)
        current = self.registry.current(name)
        if current is None:
            return Outcome(f"{name} has no approved version; it cannot run.", True)
        return self._run_version(current, args)

    def _run_version(self, version: ToolVersion, args: dict[str, Any]) -> Outcome:
        try:
            outcome = self.executor.run(version, args)
        except AwsUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - reported to Claude and recorded, the loop goes on
            outcome = Outcome(f"{version.name} could not run: {type(exc).__name__}: {exc}", True)
        self.usage.record(version.name, ok=not outcome.is_error, job_id=self.job.id, user=self.job.thread.user,
                          request=self.job.request)
        self.job.not_collected += [f"{version.name}: {problem}" for problem in outcome.not_collected]
        return outcome

    def _open_card(self, version: ToolVersion) -> None:
        path = self.registry.materialise(version)
        self.approvals.open(self.job, version, self.chat, path)
        self.s.jobs.save(self.job)

    # --- Claude ----------------------------------------------------------------------------
    def _offered(self) -> list[str]:
        """The tools this job offers: chosen once from the request, then only grown (by find_tools)."""
        if self.job.offered is None:
            self.job.offered = self.catalog.offer(self.job.request, [])
        return self.job.offered

    def tool_definitions(self) -> list[dict[str, Any]]:
        """Agent tools, then the offered tools by name; sorted so the block stays byte-stable."""
        wanted = set(self._offered())
        offered: dict[str, ToolVersion] = {v.name: v for v in self.registry.approved() if v.name in wanted}
        for name in self.registry.names():
            latest = self.registry.latest(name)
            if latest and latest.status == "pending" and latest.requested_by.get("job_id") == self.job.id:
                offered[name] = latest
            elif latest and latest.requested_by.get("job_id") == self.job.id and name not in offered:
                current = self.registry.current(name)
                if current is not None:
                    offered[name] = current
        definitions = [dict(t) for t in AGENT_TOOLS]
        for name in sorted(offered):
            if name in AGENT_TOOL_NAMES:
                continue
            try:
                definitions.append(spec_from_source(name, offered[name].source).to_claude_tool())
            except ContractError:
                continue
        definitions[-1] = {**definitions[-1], "cache_control": CACHE}
        return definitions

    def _ask_claude(self, history: list[dict[str, Any]]) -> Any:
        try:
            return self.s.llm.messages.create(
                model=self.settings.auditbot_model,
                max_tokens=MAX_OUTPUT_TOKENS,
                system=[{"type": "text", "text": SYSTEM_PROMPT, "cache_control": CACHE}],
                tools=self.tool_definitions(),
                messages=with_cache_breakpoint(history),
            )
        except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError) as exc:
            raise LLMUnavailable(messages.llm_unavailable(exc)) from exc

    # --- endings ---------------------------------------------------------------------------
    def _limit_reached(self) -> str | None:
        if self.job.turns >= self.settings.auditbot_max_turns:
            return f"the limit of {self.settings.auditbot_max_turns} Claude turns per request"
        if self.job.input_tokens + self.job.output_tokens >= self.settings.auditbot_token_budget:
            return f"the budget of {self.settings.auditbot_token_budget:,} tokens per request"
        return None

    def _check_cancel(self, history: list[dict[str, Any]], unrun: list[dict[str, Any]] | None = None,
                      results: list[dict[str, Any]] | None = None) -> None:
        """Raise `Cancelled` when the user asked; calls not run get a result, so a follow-up can go on."""
        if not self.s.jobs.cancel_requested(self.job.id):
            return
        if unrun:
            skipped = [tool_result(b, Outcome(unfinished_call_result(), True)) for b in unrun]
            history.append({"role": "user", "content": [*(results or []), *skipped]})
        self.s.jobs.checkpoint(self.job, history)
        raise Cancelled

    def _cancelled(self) -> str:
        """Keep what was collected (the manifest is finished and attached); the caller tells the thread."""
        self._close_evidence()
        self.job.status = "cancelled"
        self.job.ended_at = iso(datetime.now(UTC))
        return "cancelled"

    def _stop(self, limit: str) -> str:
        self.chat.post(messages.stopped_at_limit(limit))
        self._close_evidence()
        self.job.status = "stopped"
        self.chat.status(f"Stopped at {limit}.", final=True)
        return "stopped"

    def _finish(self, history: list[dict[str, Any]], answer: str) -> str:
        answer = answer.strip() or "Done."
        if self.job.not_collected:
            answer += "\n\n" + messages.not_collected(self.job.not_collected)
        self.chat.post(redact(answer, self.settings.secret_values))
        self._close_evidence()
        self.job.status = "done"
        self.job.ended_at = iso(datetime.now(UTC))
        self.s.jobs.checkpoint(self.job, history)
        files = len(self.evidence.manifest.get("files", []))
        self.chat.status(messages.done_status(files, self.job.turns), final=True)
        return "done"

    def _close_evidence(self) -> None:
        collection = {**self.evidence.manifest.get("collection", {}), "ended": iso(datetime.now(UTC))}
        path = self.evidence.finish(collection=collection, claude={"model": self.settings.auditbot_model,
                                                                    "turns": self.job.turns})
        if self.evidence.manifest.get("files"):
            self.chat.upload(path, title=f"manifest.json ({self.job.id})",
                             comment=manifest_comment(self.evidence.manifest))
            if self.evidence.signature_path.exists():
                self.chat.upload(self.evidence.signature_path, title=signature_title(self.job.id))
        self._tell_store_problem()

    def _tell_store_problem(self) -> None:
        problem = self.evidence.take_store_problem()
        if problem:
            self.chat.post(problem)
