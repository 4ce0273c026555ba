"""The tool registry on real Redis: versions, decisions, rollback, built-ins, materialisation."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from workers.registry import BUILTIN_APPROVER, DecisionRefused, Registry

SOURCE = ('"""Say hello."""\n\nPARAMETERS = {"type": "object", "properties": {}}\n\n\n'
          'def run(ctx):\n    return {"summary": "hi"}\n')


@pytest.fixture
def registry(conn, tmp_path: Path) -> Registry:
    return Registry(conn, tmp_path / "data", builtin_dir=tmp_path / "no-builtins")


def test_new_versions_supersede_pending_ones(registry):
    v1 = registry.add_version("hello", SOURCE, parent=None, requested_by={"user": "U1"})
    v2 = registry.add_version("hello", SOURCE + "# v2\n", parent=1)
    assert (v1.version, v2.version) == (1, 2)
    assert [v.status for v in registry.history("hello")] == ["superseded", "pending"]
    assert registry.current("hello") is None
    with pytest.raises(DecisionRefused, match="already superseded"):
        registry.decide("hello", 1, approve=True, by="UA")


def test_first_decision_wins_under_concurrency(registry):
    registry.add_version("hello", SOURCE, parent=None)
    outcomes: list[str] = []

    def click(user: str, approve: bool) -> None:
        try:
            registry.decide("hello", 1, approve=approve, by=user)
            outcomes.append(f"{user} won")
        except DecisionRefused:
            outcomes.append(f"{user} refused")

    threads = [threading.Thread(target=click, args=(f"U{n}", n % 2 == 0)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(o.endswith("won") for o in outcomes) == 1
    record = registry.get("hello", 1)
    assert f"{record.approver} won" in outcomes


def test_blocking_findings_can_never_be_approved(registry):
    registry.add_version("hello", SOURCE, parent=None, checks={"blocking": True})
    with pytest.raises(DecisionRefused, match="blocking"):
        registry.decide("hello", 1, approve=True, by="UA")


def test_rollback_points_at_an_older_approved_version(registry):
    registry.add_version("hello", SOURCE, parent=None)
    registry.decide("hello", 1, approve=True, by="UA")
    registry.add_version("hello", SOURCE + "# v2\n", parent=1)
    registry.decide("hello", 2, approve=True, by="UB")
    assert registry.current("hello").version == 2
    registry.rollback("hello", 1)
    assert registry.current("hello").version == 1
    assert len(registry.history("hello")) == 2, "history is kept"
    registry.add_version("hello", SOURCE + "# v3\n", parent=1)
    with pytest.raises(DecisionRefused):
        registry.rollback("hello", 3)


def test_materialised_file_must_match_the_approved_hash(registry):
    version = registry.add_version("hello", SOURCE, parent=None, approver="UA")
    path = registry.materialise(version)
    assert path.read_text() == SOURCE and path.name == "hello.py"
    path.write_text(SOURCE.replace("hi", "pwned"))
    with pytest.raises(DecisionRefused, match="does not match the approved hash"):
        registry.materialise(version)


def test_builtins_are_version_one_and_synced_once(conn, tmp_path):
    builtins = tmp_path / "tools"
    builtins.mkdir()
    (builtins / "hello.py").write_text(SOURCE)
    registry = Registry(conn, tmp_path / "data", builtin_dir=builtins)
    assert [v.version for v in registry.sync_builtins()] == [1]
    assert registry.sync_builtins() == []
    current = registry.current("hello")
    assert current.approver == BUILTIN_APPROVER and current.status == "approved"
    (builtins / "hello.py").write_text(SOURCE + "# shipped fix\n")
    assert [v.version for v in registry.sync_builtins()] == [2]
    assert registry.current("hello").parent == 1
