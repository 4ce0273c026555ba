"""Who is at the terminal, for the approval record of `auditbot tools approve`."""

from __future__ import annotations

import getpass


def operator() -> str:
    return f"terminal:{getpass.getuser()}"
