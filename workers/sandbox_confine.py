"""The layers a tool's process puts on itself before it loads the tool: rlimits, Landlock, seccomp.

The worker says in the start message which layers this host can give (`Confinement`); the tool's
process applies each of them or refuses to run the tool, so a layer the worker counted on can never be
silently missing. The order matters: rlimits first, then Landlock (its system calls would be denied
by seccomp), then seccomp last.
"""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass, field
from typing import Any

from workers import sandbox_landlock, sandbox_seccomp


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits; `processes` counts threads too and is only enforced for non-root."""

    cpu_seconds: int = 330
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 512 * 1024 * 1024
    processes: int = 64
    open_files: int = 256


@dataclass(frozen=True)
class Confinement:
    """What the tool's process must apply to itself; travels in the start message."""

    limits: Limits | None = None
    landlock_read: list[str] = field(default_factory=list)
    landlock_write: list[str] = field(default_factory=list)
    landlock: bool = False
    seccomp: bool = False

    def to_message(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Confinement:
        limits = message.get("limits")
        return cls(**{**message, "limits": Limits(**limits) if limits else None})


class ConfinementError(RuntimeError):
    """A layer the worker asked for could not be applied; the tool is not run."""


def _set_limits(limits: Limits) -> None:
    for kind, value in ((resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_AS, limits.memory_bytes),
                        (resource.RLIMIT_FSIZE, limits.file_bytes), (resource.RLIMIT_NPROC, limits.processes),
                        (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))


def confine(confinement: Confinement) -> list[str]:
    """Apply every layer asked for, in order; return their names. Raises `ConfinementError`."""
    applied = []
    try:
        if confinement.limits:
            _set_limits(confinement.limits)
            applied.append("rlimits")
        if confinement.landlock:
            abi = sandbox_landlock.restrict(confinement.landlock_read, confinement.landlock_write)
            applied.append(f"landlock-v{abi}")
        if confinement.seccomp:
            sandbox_seccomp.restrict()
            applied.append("seccomp")
    except (OSError, ValueError, ImportError) as exc:
        raise ConfinementError(f"the sandbox could not be set up ({', '.join(applied) or 'no layer'} applied): "
                               f"{exc}") from exc
    return applied
