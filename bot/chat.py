"""`auditbot chat`: one request in the terminal, through the same agent, registry and tools.

Redis is used when it answers (so the registry is shared with the workers); otherwise an in-memory
stand-in keeps this one session's state and says so. `--simulated-aws` runs moto with the demo
estate and a loopback console, so nothing real is touched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import fakeredis
import redis
from rich.console import Console
from rich.prompt import Confirm

from bot.cli_identity import operator
from bot.environment import patched_environ
from bot.services import build_services, redis_connection
from bot.terminal_conversation import TerminalConversation
from workers.agent import Agent, LLMUnavailable
from workers.console_standin import ConsoleStandin
from workers.conversation import ApprovalRequest, ThreadRef
from workers.job_state import JobState, new_job_id
from workers.settings import Settings
from workers.simulated_aws import FAKE_CREDENTIALS, SimulatedAWS, seed_demo_data


@dataclass
class ChatResult:
    outcome: str
    conversation: TerminalConversation
    job: JobState


def connect(settings: Settings, console: Console) -> redis.Redis:
    conn = redis_connection(settings)
    try:
        conn.ping()
        return conn
    except redis.RedisError:
        console.print(f"[yellow]Redis at {settings.redis_url} is not answering: using an in-memory registry "
                      "for this session (tools approved now are not kept).[/yellow]")
        return fakeredis.FakeRedis()


@contextmanager
def simulated_estate(settings: Settings, console: Console) -> Iterator[Settings]:
    """Moto with the demo data and a loopback console; yields settings that point at them."""
    with SimulatedAWS() as aws, ConsoleStandin() as console_site:
        summary = seed_demo_data(aws, region=settings.region)
        events = sum(summary["logs"].values())
        console.print(f"[dim]Simulated AWS at {aws.endpoint_url}: {events:,} log events, "
                      f"RDS snapshots, DynamoDB tables, S3 buckets, IAM users.[/dim]")
        env = {"AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
               "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
               "AWS_ENDPOINT_URL": aws.endpoint_url}
        with patched_environ(env, remove=("AWS_SESSION_TOKEN", "AWS_PROFILE")):
            yield settings.model_copy(update={
                "aws_endpoint_url": aws.endpoint_url,
                "auditbot_console_signin_url": console_site.signin_url,
                "auditbot_console_url": console_site.console_url,
            })


def approval_prompt(assume_yes: bool | None, console: Console):
    """Ask at the keyboard; without one (CI, pipes) use --yes/--no, refusing by default."""
    def ask(request: ApprovalRequest) -> bool:
        if assume_yes is not None:
            console.print(f"[yellow]{'Approving' if assume_yes else 'Rejecting'} {request.tool} "
                          f"v{request.version} (--{'yes' if assume_yes else 'no'}).[/yellow]")
            return assume_yes
        if not sys.stdin.isatty():
            console.print("[yellow]No terminal to ask for approval: rejecting. Pass --yes to approve.[/yellow]")
            return False
        return Confirm.ask(f"Approve {request.tool} v{request.version}?", default=False)
    return ask


def run_chat(request: str, settings: Settings, *, assume_yes: bool | None = None,
             console: Console | None = None, conn: redis.Redis | None = None) -> ChatResult:
    console = console or Console()
    conn = conn or connect(settings, console)
    services = build_services(settings, conn)
    user = operator()
    job_id = new_job_id()
    job = JobState(id=job_id, request=request, thread=ThreadRef("terminal", "terminal", job_id, user))

    def decide(token: str, approve: bool) -> None:
        services.approvals.decide(token, user, approve=approve, trusted=True)

    conversation = TerminalConversation(job.thread, decide, approval_prompt(assume_yes, console), console)
    try:
        outcome = Agent(services, job, conversation).run()
    except LLMUnavailable as exc:
        conversation.post(f"{exc} Try again in a minute.")
        outcome = "failed"
    if job.evidence_dir:
        console.print(f"[bold]Evidence folder:[/bold] {job.evidence_dir}")
    return ChatResult(outcome, conversation, job)
