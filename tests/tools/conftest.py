"""Run built-in tools for real: the sandbox, the broker, moto in server mode and the console stand-in.

Nothing is patched: a test asks `run_builtin` for a run and gets the `ToolRun` the worker would get.
The seeded estate (tests/conftest.py) is only read by these tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workers.broker import Broker, BrokerConfig
from workers.console_signin import console_login_url
from workers.console_standin import ConsoleStandin
from workers.evidence_notes import NOTES_FILE
from workers.sandbox import ToolRun, run_tool
from workers.simulated_aws import DEFAULT_REGION, SimulatedAWS

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="package")
def simulated_aws(aws: SimulatedAWS) -> SimulatedAWS:
    """The session's seeded moto server (tests/conftest.py); these tests only read it."""
    return aws


@pytest.fixture(scope="package")
def console(console_site: ConsoleStandin) -> ConsoleStandin:
    return console_site


@pytest.fixture
def make_broker(simulated_aws: SimulatedAWS, console: ConsoleStandin) -> Callable[..., Broker]:
    """`make_broker(region=..., endpoint_url=..., credentials=..., console_login=...)`: a read-only broker,
    by default on the simulated estate and signing browsers in through the console stand-in."""

    def sign_in(destination: str) -> str:
        return console_login_url(simulated_aws.client("sts"), signin_url=console.signin_url,
                                 destination=destination)

    def make(region: str = DEFAULT_REGION, endpoint_url: str | None = None,
             credentials: dict[str, str] | None = None,
             console_login: Callable[[str], str] | None = sign_in) -> Broker:
        config = BrokerConfig(region=region, endpoint_url=endpoint_url or simulated_aws.endpoint_url,
                              credentials=credentials or simulated_aws.credentials)
        return Broker(config, console_login=console_login)

    return make


@pytest.fixture
def run_builtin(estate: dict[str, Any], console: ConsoleStandin, make_broker: Callable[..., Broker],
                tmp_path: Path) -> Callable[..., ToolRun]:
    """`run_builtin(tool, broker=None, **params)`: one run of `tools/<tool>.py`, evidence under tmp_path."""

    def run(tool: str, broker: Broker | None = None, **params: Any) -> ToolRun:
        return run_tool(TOOLS_DIR / f"{tool}.py", tool, params=params, output_dir=tmp_path / "evidence",
                        broker=broker or make_broker(), timeout=120, console_url=console.console_url)

    return run


@pytest.fixture
def evidence_file() -> Callable[[ToolRun], Path]:
    """The one evidence file of a successful run, checked to be the file its result names."""

    def only_file(run: ToolRun) -> Path:
        assert run.ok, run.error
        evidence = [f for f in run.files if f.name != NOTES_FILE]  # the notes are the manifest's, not a file
        assert [f.name for f in evidence] == [run.value["file"]]
        return evidence[0]

    return only_file
