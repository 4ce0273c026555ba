"""The conversation port in a terminal: progress lines, approval as a prompt, evidence paths.

It doubles as the test fake: everything shown is also kept in `transcript`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax

from workers.conversation import ApprovalRequest, MessageRef, ThreadRef

Decide = Callable[[str, bool], None]
Ask = Callable[[ApprovalRequest], bool]


class TerminalConversation:
    """A local session; the operator at the keyboard decides approvals (they could run code anyway)."""

    def __init__(self, ref: ThreadRef, decide: Decide, ask: Ask, console: Console | None = None) -> None:
        self.ref = ref
        self.decide = decide
        self.ask = ask
        self.console = console or Console()
        self.transcript: list[tuple[str, str]] = []
        self.files: list[Path] = []
        self._count = 0
        self._last_status = ""

    def _ref(self) -> MessageRef:
        self._count += 1
        return MessageRef(str(self._count))

    def post(self, text: str) -> MessageRef:
        self.transcript.append(("message", text))
        self.console.print(Panel(text, title="auditbot", border_style="cyan"))
        return self._ref()

    def status(self, text: str, *, final: bool = False) -> None:
        if text == self._last_status:
            return
        self._last_status = text
        self.transcript.append(("status", text))
        self.console.print(f"[dim]… {text}[/dim]" if not final else f"[bold]{text}[/bold]")

    def upload(self, path: Path, *, title: str | None = None, comment: str | None = None) -> None:
        self.files.append(path)
        self.transcript.append(("file", str(path)))
        self.console.print(f"[green]evidence:[/green] {path}")

    def ask_approval(self, request: ApprovalRequest) -> MessageRef:
        self.transcript.append(("approval", f"{request.tool} v{request.version}"))
        kind = "diff" if request.change_is_diff else "python"
        self.console.print(Panel(Syntax(request.change, kind, line_numbers=not request.change_is_diff),
                                 title=f"Approve {request.tool} v{request.version}?", border_style="yellow"))
        self.console.print("Checks: " + ("; ".join(request.findings) or "passed") + f"\nSelftest: {request.selftest}")
        approve = self.ask(request)
        self.decide(request.token, approve)
        self.transcript.append(("decision", "approved" if approve else "rejected"))
        return self._ref()

    def show_decision(self, card: MessageRef, request: ApprovalRequest, decision: str, by: str) -> None:
        self.transcript.append(("decision", f"{decision} by {by}"))
        self.console.print(f"{request.tool} v{request.version} {decision} by {by}")
