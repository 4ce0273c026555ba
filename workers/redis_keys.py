"""Every Redis key auditbot uses, built by one helper under one prefix.

| key | type | meaning | lifetime |
| --- | --- | --- | --- |
| `auditbot:dedupe:<surface>:<delivery id>` | string | a delivery (Slack event id, Teams activity id) already queued | TTL 1 h |
| `auditbot:job:<job id>` | string (JSON) | job state: status, request, thread ref, timestamps, pending approval | TTL 30 d |
| `auditbot:job:<job id>:messages` | string (JSON) | the Claude conversation, checkpointed after every turn | TTL 30 d |
| `auditbot:job:<job id>:lock` | string | the worker running the job now; one runner per job | TTL job timeout |
| `auditbot:job:<job id>:cancel` | string | who asked to cancel the job; the worker stops at its next check | TTL 1 d |
| `auditbot:tools` | set | names of every tool in the registry | forever |
| `auditbot:tool:<name>:versions` | hash | version number -> version record (JSON) | forever |
| `auditbot:tool:<name>:current` | string | the approved version that runs | forever |
| `auditbot:tool:<name>:seq` | string (int) | the last version number handed out | forever |
| `auditbot:tool:<name>:usage` | hash | uses, successes, failures, last_use, last_success, last_failure (epoch s) | forever |
| `auditbot:tool:<name>:served` | list (JSON) | the newest 50 requests the tool served: job, user, text, ok | forever |
| `auditbot:tool:<name>:retired` | string (JSON) | present while the tool is retired: who and when | until unretired |
| `auditbot:tool:<name>:lifecycle` | list (JSON) | retire/unretire history: action, who, when | forever |
| `auditbot:approval:<token>` | hash | a pending decision: tool, version, job, thread | TTL approval TTL |
| `auditbot:approvals:pending` | sorted set | approval tokens scored by expiry time | entries leave on decision or expiry |
| `auditbot:thread:<surface>:<thread id>` | string | the job id whose conversation a thread continues | TTL 30 d |
| `auditbot:user:<surface>:<user id>:jobs` | sorted set | the user's newest 50 job ids, scored by creation time | TTL 30 d |
| `auditbot:rate:<surface>:user:<user id>` | sorted set | the user's request times in the rate window (sliding log) | TTL rate window |
| `auditbot:rate:<surface>:channel:<channel id>` | sorted set | the channel's request times in the rate window | TTL rate window |

`docs/redis-keys.md` repeats this table; `tests/test_redis_keys.py` pins the strings.
"""

from __future__ import annotations

PREFIX = "auditbot"


def key(*parts: str | int) -> str:
    """Join parts under the prefix; refuse empty parts so no key has a doubled colon."""
    if any(str(p) == "" for p in parts):
        raise ValueError(f"empty key part in {parts!r}")
    return ":".join([PREFIX, *(str(p) for p in parts)])


def dedupe(surface: str, delivery_id: str) -> str:
    return key("dedupe", surface, delivery_id)


def job(job_id: str) -> str:
    return key("job", job_id)


def job_messages(job_id: str) -> str:
    return key("job", job_id, "messages")


def job_lock(job_id: str) -> str:
    return key("job", job_id, "lock")


def job_cancel(job_id: str) -> str:
    return key("job", job_id, "cancel")


def tools() -> str:
    return key("tools")


def tool_versions(name: str) -> str:
    return key("tool", name, "versions")


def tool_current(name: str) -> str:
    return key("tool", name, "current")


def tool_seq(name: str) -> str:
    return key("tool", name, "seq")


def tool_usage(name: str) -> str:
    return key("tool", name, "usage")


def tool_served(name: str) -> str:
    return key("tool", name, "served")


def tool_retired(name: str) -> str:
    return key("tool", name, "retired")


def tool_lifecycle(name: str) -> str:
    return key("tool", name, "lifecycle")


def approval(token: str) -> str:
    return key("approval", token)


def approvals_pending() -> str:
    return key("approvals", "pending")


def thread(surface: str, thread_id: str) -> str:
    return key("thread", surface, thread_id)


def user_jobs(surface: str, user: str) -> str:
    return key("user", surface, user, "jobs")


def rate(surface: str, scope: str, subject: str) -> str:
    """`scope` is `user` or `channel`."""
    return key("rate", surface, scope, subject)
