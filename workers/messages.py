"""Every user-facing text of the worker side, as small named functions: wording stays out of logic."""

from __future__ import annotations


def waiting_for_approval(tool: str, version: int) -> str:
    return (f":hourglass: Waiting for an approver to review *{tool}* v{version} (card above). "
            "The request continues here after the decision.")


def rejected_result(tool: str, version: int, by: str) -> str:
    return (f"{tool} v{version} was rejected by {by}; it did not run and will not run. "
            "Tell the user, or take another approach that needs no new code.")


def expired_result(tool: str, version: int) -> str:
    return f"No decision on {tool} v{version} arrived in time; the approval request expired. The tool did not run."


def repair_limit(tool: str, rounds: int) -> str:
    return (f":warning: {tool} still fails after {rounds} repair round(s). I am stopping here rather than "
            "rewriting it again; a human should look at the error above.")


def repair_limit_result(tool: str, rounds: int) -> str:
    return (f"Repair limit reached for {tool} ({rounds} fix rounds in this request). Do not try again: "
            "summarise what failed and what you tried, and ask a human.")


def unknown_tool(name: str, known: list[str]) -> str:
    return f"There is no tool named {name!r}. Known tools: {', '.join(known) or 'none'}."


def llm_unavailable(exc: Exception) -> str:
    return f"Claude is unavailable right now ({type(exc).__name__}); the request is kept and will be retried."


def stopped_at_limit(limit: str) -> str:
    return (f":octagonal_sign: I stopped at {limit} without a final answer. Evidence collected so far is kept "
            "in the manifest. Try a narrower request.")


def done_status(files: int, turns: int) -> str:
    noun = "file" if files == 1 else "files"
    return f":white_check_mark: Done: {files} evidence {noun}, {turns} Claude turn(s)."


def not_collected(problems: list[str]) -> str:
    listed = "\n".join(f"• {p}" for p in problems[:20])
    return f":warning: *Not collected* (the runtime's checks, not the model's claim):\n{listed}"


def resumed_after_interruption(calls: int) -> str:
    return (f":recycle: A worker stopped in the middle of this request; continuing from the last checkpoint "
            f"({calls} tool call(s) run again).")
