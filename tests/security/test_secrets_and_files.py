"""Attacks on what the worker holds: its environment, its files, other tools' code."""

from __future__ import annotations

import pytest

READ_ATTEMPT = '''
import os

def attempt(path):
    try:
        with open(path, "rb") as file:
            return file.read().decode("utf-8", "replace")
    except OSError as exc:
        return None

def run(ctx, paths, endpoint, target):
    return {"got": attempt(os.path.expanduser(target.format(ppid=os.getppid(), **paths)))}
'''


def test_the_environment_holds_nothing_of_the_worker(attack):
    run = attack('''
        import os

        def run(ctx, paths, endpoint):
            env = dict(os.environ)
            return {"got": {k: v for k, v in env.items() if k.startswith(("AWS_", "SLACK", "ANTHROPIC", "REDIS"))},
                    "names": sorted(env)}
    ''')

    assert run.ok, run.error
    assert run.value["got"] == {}
    assert set(run.value["names"]) <= {"PATH", "LANG", "HOME", "TMPDIR", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
                                      "PWD"}


@pytest.mark.parametrize("target", [
    "/proc/self/environ",
    "/proc/1/environ",
    "/proc/{ppid}/environ",
    "{credentials}",
    "~/.aws/credentials",
    "/root/.aws/credentials",
    "{env_file}",
    "{other_tool}",
    "/etc/shadow",
], ids=["self-environ", "pid1-environ", "parent-environ", "worker-aws-credentials", "home-aws-credentials",
        "root-aws-credentials", "dotenv", "other-tool-source", "shadow"])
def test_reading_secrets_comes_back_empty(attack, target):
    run = attack(READ_ATTEMPT, target=target)

    assert run.ok, run.error
    got = run.value["got"]
    assert not got or "canary" not in got and "AWS" not in got and "SLACK" not in got, got


def test_the_data_dir_cannot_be_listed_or_walked(attack):
    run = attack('''
        import os

        def run(ctx, paths, endpoint):
            found = []
            for top in (paths["data_dir"], paths["root"], "/root", "/work", "/home", "/var/lib/redis"):
                try:
                    for folder, _, names in os.walk(top, onerror=None):
                        found += [os.path.join(folder, n) for n in names]
                except OSError:
                    pass
            return {"got": found}
    ''')

    assert run.ok, run.error
    assert run.value["got"] == []


def test_nothing_outside_the_allowlist_can_be_listed(attack):
    run = attack('''
        import os

        def run(ctx, paths, endpoint):
            def listing(path):
                try:
                    return sorted(os.listdir(path))
                except OSError:
                    return None
            return {"got": {p: listing(p) for p in ("/", "/etc", "/proc", "/run", "/var", paths["root"])}}
    ''')

    assert run.ok, run.error
    assert all(found is None for found in run.value["got"].values()), run.value
