"""The Redis key strings are part of the operating contract (docs/redis-keys.md): pin them."""

from pathlib import Path

import pytest

from workers import redis_keys


def test_key_strings_are_pinned():
    assert redis_keys.dedupe("slack", "Ev1") == "auditbot:dedupe:slack:Ev1"
    assert redis_keys.job("j1") == "auditbot:job:j1"
    assert redis_keys.job_messages("j1") == "auditbot:job:j1:messages"
    assert redis_keys.job_lock("j1") == "auditbot:job:j1:lock"
    assert redis_keys.tools() == "auditbot:tools"
    assert redis_keys.tool_versions("t") == "auditbot:tool:t:versions"
    assert redis_keys.tool_current("t") == "auditbot:tool:t:current"
    assert redis_keys.tool_seq("t") == "auditbot:tool:t:seq"
    assert redis_keys.tool_usage("t") == "auditbot:tool:t:usage"
    assert redis_keys.tool_served("t") == "auditbot:tool:t:served"
    assert redis_keys.tool_retired("t") == "auditbot:tool:t:retired"
    assert redis_keys.tool_lifecycle("t") == "auditbot:tool:t:lifecycle"
    assert redis_keys.approval("tok") == "auditbot:approval:tok"
    assert redis_keys.approvals_pending() == "auditbot:approvals:pending"
    assert redis_keys.thread("slack", "C1:1.2") == "auditbot:thread:slack:C1:1.2"
    assert redis_keys.job_cancel("j1") == "auditbot:job:j1:cancel"
    assert redis_keys.user_jobs("slack", "U1") == "auditbot:user:slack:U1:jobs"
    assert redis_keys.rate("slack", "user", "U1") == "auditbot:rate:slack:user:U1"
    assert redis_keys.rate("slack", "channel", "C1") == "auditbot:rate:slack:channel:C1"


def test_no_empty_part_makes_a_doubled_colon():
    with pytest.raises(ValueError):
        redis_keys.job("")


def test_docs_list_every_key_of_the_module_docstring():
    documented = Path(__file__).resolve().parent.parent / "docs" / "redis-keys.md"
    rows = [line for line in (redis_keys.__doc__ or "").splitlines() if line.startswith("| `auditbot:")]
    assert rows and all(row in documented.read_text() for row in rows)
