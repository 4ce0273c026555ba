"""Every user-facing text of the chat surfaces, as small named functions."""

from __future__ import annotations

MAX_REQUEST_CHARS = 4000

HELP = """*auditbot* collects AWS audit evidence and uploads it here, with a signed-off trail.
Ask in plain words, by mentioning me, in a DM, or with `/audit <request>`:
• `Export CloudWatch log group prod-app-logs for the last 7 days to JSON`
• `List IAM users without MFA as CSV`
• `Screenshot the RDS instance prod-db configuration tab`
• `Compare RDS snapshots snap-old and snap-new`
When no tool fits, I write one; an approver reviews the code with Approve/Reject before it runs.
Commands: `/audit help`, `/audit <request>`."""


def queued(job_id: str) -> str:
    return f":inbox_tray: Got it. Working on it (job `{job_id}`) …"


def too_long(length: int) -> str:
    return (f"That request is {length:,} characters long; I take at most {MAX_REQUEST_CHARS:,}. "
            "Please shorten it, or attach the details as a file and describe what you need.")


def empty_request() -> str:
    return "You mentioned me without a request. " + HELP


def unknown_subcommand(word: str) -> str:
    return f"I don't know `/audit {word}`. " + HELP


def cannot_queue() -> str:
    return (":warning: I can't queue requests right now (my job queue, Redis, is not answering). "
            "Nothing was started; please send the request again in a minute.")


def llm_retry(reason: str, delay: int) -> str:
    return f":hourglass: {reason} Retrying in {delay} s; nothing collected so far is lost."


def llm_gave_up() -> str:
    return (":x: Claude stayed unavailable after several retries, so I stopped. Evidence collected so far "
            "is kept; send the request again later to continue.")


def job_failed(job_id: str, exc: Exception) -> str:
    return (f":x: Job `{job_id}` failed: {type(exc).__name__}: {str(exc)[:300]}. "
            "Evidence collected before the failure is kept; the failure is recorded for the operators.")


def failed_status() -> str:
    return ":x: Failed."
