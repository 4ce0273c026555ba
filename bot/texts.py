"""Every user-facing text of the chat surfaces, as small named functions.

Texts are Slack mrkdwn (`*bold*`, `_italic_`, `` `code` ``, `<@U…>` mentions); Teams renders its own
from `bot/teams_texts.py`.
"""

from __future__ import annotations

import re

MAX_REQUEST_CHARS = 4000
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

HELP = """*auditbot* collects AWS audit evidence and uploads it here, with a signed-off trail.
Ask in plain words, by mentioning me, in a DM, or with `/audit <request>`:
• `Export CloudWatch log group prod-app-logs for the last 7 days to JSON`
• `List IAM users without MFA as CSV`
• `Screenshot the RDS instance prod-db configuration tab`
• `Compare RDS snapshots snap-old and snap-new`
Reply in the request's thread to go on with the same conversation (“now as PDF”, “only the last 24 hours”);
a new message starts a new one. When no tool fits, I write one; an approver reviews the code before it runs.
*Commands* (only you see the answers):
• `/audit tools`: the tool catalog, with versions and who approved them
• `/audit status [job]`: your recent requests, or one job
• `/audit cancel <job>`: stop a request (the Cancel button on its status message does the same)
• `/audit approvals`: versions waiting for a decision, with links to their cards
• `/audit evidence [n]`: the newest evidence, with links to its threads
The *Home* tab shows all of this at a glance."""


def who(user: str) -> str:
    """A Slack mention for a Slack user id; other ids (Teams, terminal) as they are."""
    return f"<@{user}>" if SLACK_USER_ID.match(user) else user


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`: elapsed times in status lines and replies."""
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


# --- intake ---------------------------------------------------------------------------------
def queued(job_id: str) -> str:
    return f":inbox_tray: Got it. Working on it (job `{job_id}`) …"


def follow_up_queued(job_id: str) -> str:
    return f":inbox_tray: Got it. Going on with this conversation (job `{job_id}`) …"


def still_working(job_id: str, status: str) -> str:
    return (f":hourglass: I'm still on the previous request in this thread (job `{job_id}`, {status}). "
            "Send the follow-up once it has finished, or press *Cancel* on its status message.")


def too_long(length: int) -> str:
    return (f"That request is {length:,} characters long; I take at most {MAX_REQUEST_CHARS:,}. "
            "Please shorten it, or attach the details as a file and describe what you need.")


def empty_request() -> str:
    return "You mentioned me without a request. " + HELP


def unknown_subcommand(word: str) -> str:
    return f"I don't know `/audit {word}`. " + HELP


def asked_via_command(user: str, request: str) -> str:
    """The thread root a `/audit <request>` opens (the request is escaped by the caller)."""
    return f"{who(user)} asked via /audit: {request}"


def records_unavailable() -> str:
    return (":warning: I can't read my records right now (Redis, where jobs and tools are kept, is not "
            "answering). Please try again in a minute.")


def cannot_post_here(error: str) -> str:
    return (f"I can't post in this channel ({error}), so I didn't start anything. Invite me with "
            "`/invite @auditbot`, or ask me in a direct message.")


def cannot_queue() -> str:
    return (":warning: I can't queue requests right now (my job queue, Redis, is not answering). "
            "Nothing was started; please send the request again in a minute.")


# --- access and limits ----------------------------------------------------------------------
def user_not_allowed() -> str:
    return ("Sorry, you're not on the list of people who may use auditbot here, so I didn't start anything. "
            "An admin can add you (`AUDITBOT_ALLOWED_USERS`).")


def channel_not_allowed() -> str:
    return ("auditbot isn't enabled in this channel, so I didn't start anything. Ask me in a direct message or "
            "in a channel where I'm enabled; an admin chooses them (`AUDITBOT_ALLOWED_CHANNELS`).")


def rate_limited(scope: str, limit: int, window_seconds: int, retry_after: float) -> str:
    """`scope` is `user` or `channel`."""
    who_sent = "You have" if scope == "user" else "This channel has"
    share = "one person" if scope == "user" else "one channel"
    return (f":raised_hand: {who_sent} sent {limit} requests in the last {duration(window_seconds)}, the most I "
            f"take from {share}, so I didn't queue this one. Please try again in about "
            f"{duration(max(retry_after, 1))}.")


# --- cancelling -----------------------------------------------------------------------------
def cancelled(job_id: str, by: str, ran_for: float | None) -> str:
    after = f" after {duration(ran_for)}" if ran_for is not None else ""
    return (f":octagonal_sign: Job `{job_id}` was cancelled by {who(by)}{after}. Nothing more runs for it; "
            "evidence collected before the cancel is kept (its manifest is attached when there was any).")


def cancelled_status(by: str) -> str:
    return f":octagonal_sign: Cancelled by {who(by)}."


def cancelling(job_id: str) -> str:
    return f"Cancelling job `{job_id}` … its thread will say when it has stopped (within seconds)."


def cancel_done(job_id: str) -> str:
    return f"Job `{job_id}` is cancelled; its thread says so."


def nothing_to_cancel(job_id: str, status: str) -> str:
    return f"Job `{job_id}` has already ended ({status}); there is nothing to cancel."


def unknown_job(job_id: str) -> str:
    return f"I don't know job `{job_id}` (job records are kept 30 days). `/audit status` lists your requests."


def cancel_not_allowed(job_id: str) -> str:
    return f"Only the people who asked in job `{job_id}`'s thread, or an approver, may cancel it. Nothing changed."


def cancel_usage() -> str:
    return "Usage: `/audit cancel <job id>`. `/audit status` lists your requests and their job ids."


def confirm_cancel() -> dict[str, str]:
    """The Cancel button's confirmation dialog (Block Kit limits: title 100, text 300, buttons 30)."""
    return {"title": "Cancel this request?",
            "text": "The running step is stopped within seconds. Evidence collected so far is kept.",
            "confirm": "Cancel request", "deny": "Keep running"}


# --- the worker's endings -------------------------------------------------------------------
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


# --- status line and answers ----------------------------------------------------------------
def status_context(job_id: str | None, elapsed: float | None, tool: str | None, pages: int | None) -> str:
    parts = [f"Job `{job_id}`"] if job_id else []
    if elapsed is not None:
        parts.append(f":stopwatch: {duration(elapsed)}")
    if tool:
        parts.append(f"tool `{tool}`")
    if pages:
        parts.append(f"{pages} page{'s' if pages != 1 else ''} fetched")
    return " · ".join(parts)


def key_step(step: str) -> str:
    return f":small_blue_diamond: {step}"


def cancel_button() -> str:
    return "Cancel"


def answer_attached() -> str:
    return "… the answer is longer than a Slack message; the whole of it is attached as `answer.md`."


def table_attached(shown: int, total: int, filename: str) -> str:
    return f"_{shown} of {total} rows shown; every row is in the attached `{filename}`._"


# --- /audit subcommands and the App Home ----------------------------------------------------
def never() -> str:
    return "never"


def tools_title(count: int) -> str:
    return f"Tool catalog ({count} tools)"


def tool_line(name: str, version: int, approver: str, last_used: str, pending: int | None, retired: bool) -> str:
    line = f"*{name}* v{version} · approved by {approver} · last used {last_used}"
    if pending:
        line += f" · v{pending} awaiting approval"
    return line + (" · _retired_" if retired else "")


def no_tools() -> str:
    return "No tool is registered yet; the workers register the built-in ones when they start."


def more_rows(count: int, command: str) -> str:
    return f"… and {count} more: `{command}`."


def approvals_title(count: int) -> str:
    return f"Pending approvals ({count})"


def approval_line(tool: str, version: int, requester: str, expires_in: float, link: str | None) -> str:
    card = f" · <{link}|open the card>" if link else " · the card is in Teams"
    return (f"*{tool}* v{version} · asked by {who(requester)} · expires in {duration(expires_in)}{card}")


def no_approvals() -> str:
    return "Nothing is waiting for a decision."


def approvals_only_yours() -> str:
    return "_Only approvers see every pending version; these are the ones your requests are waiting for._"


def jobs_title() -> str:
    return "Your recent requests"


def job_line(job_id: str, status: str, request: str, age: float, link: str | None) -> str:
    thread = f" · <{link}|thread>" if link else ""
    return f"{status_emoji(status)} `{job_id}` · {status} · {duration(age)} ago{thread}\n“{request}”"


STATUS_EMOJI = {"queued": ":inbox_tray:", "running": ":gear:", "parked": ":hourglass:", "done": ":white_check_mark:",
                "failed": ":x:", "stopped": ":octagonal_sign:", "cancelled": ":no_entry_sign:"}


def status_emoji(status: str) -> str:
    return STATUS_EMOJI.get(status, ":grey_question:")


def no_jobs() -> str:
    return "You have no requests in the last 30 days. Mention me, DM me, or use `/audit <request>`."


def job_details(job_id: str, status: str, request: str, by: str, age: float, ran_for: float | None, turns: int,
                link: str | None) -> str:
    ran = f" · ran {duration(ran_for)}" if ran_for is not None else ""
    thread = f"\n<{link}|Open the thread>" if link else ""
    return (f"{status_emoji(status)} *Job `{job_id}`*: {status}{ran} · {turns} Claude turn(s) · asked by {who(by)} "
            f"{duration(age)} ago\n“{request}”{thread}")


def evidence_title(count: int) -> str:
    return f"Newest evidence ({count})"


def evidence_line(job: str, collected: str, tools: list[str], files: int, renew_by: str, state: str,
                  link: str | None, folder: str) -> str:
    where = f"<{link}|thread>" if link else f"`{folder}`"
    mark = {"stale": " :warning: *collect again*", "due soon": " · _due soon_"}.get(state, "")
    return (f"`{job}` · {collected} · {', '.join(tools)} · {files} file(s) · renew by {renew_by}{mark} · {where}")


def no_evidence() -> str:
    return "No evidence has been collected yet."


def stale_title(count: int) -> str:
    return f"Evidence to collect again ({count})"


def no_stale() -> str:
    return "All evidence is within its renewal period."


def evidence_usage() -> str:
    return "Usage: `/audit evidence [n]`, n from 1 to 20 (default 5)."


def home_intro() -> str:
    return ("Ask me by mentioning `@auditbot` in a channel, in a direct message, or with `/audit <request>`. "
            "`/audit help` lists the commands.")


def home_updated(when: str) -> str:
    return f"Updated {when} UTC, each time you open this tab."
