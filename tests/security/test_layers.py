"""The sandbox's layers themselves: that they are on, that their absence is refused, that `off` warns."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from workers.sandbox import run_tool
from workers.sandbox_launch import Host, SandboxOptions, SandboxUnavailable, plan, sandbox_off_warning
from workers.sandbox_stage import Stage


def test_every_layer_the_host_has_is_on(attack, sandbox):
    run = attack('''
        import ctypes, os

        def run(ctx, paths, endpoint):
            libc = ctypes.CDLL(None, use_errno=True)
            try:
                open("/etc/hostname").read()
                outside = "read"
            except OSError as exc:
                outside = type(exc).__name__
            return {"uid": os.getuid(), "seccomp_mode": libc.prctl(21, 0, 0, 0, 0),
                    "no_new_privs": libc.prctl(39, 0, 0, 0, 0), "outside_allowlist": outside,
                    "can_raise_nproc": _raise_limit()}

        def _raise_limit():
            import resource
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (100000, 100000))
                return True
            except (ValueError, OSError):
                return False
    ''')

    assert run.ok, run.error
    uid = run.value.pop("uid")
    assert sandbox.uid <= uid < sandbox.uid + sandbox.uid_count if os.geteuid() == 0 else uid == os.geteuid()
    assert run.value == {"seccomp_mode": 2, "no_new_privs": 1,
                         "outside_allowlist": "FileNotFoundError" if sandbox.bubblewrap else "PermissionError",
                         "can_raise_nproc": False}


def test_no_layer_at_all_means_no_tool_code(tmp_path: Path):
    stage = Stage.create(_tool(tmp_path), "t", _sha(tmp_path), None)
    bare = Host(switch_uid=False, bwrap=False, landlock_abi=0, seccomp_module=None, prefix="/usr",
                problems=("bubblewrap cannot create namespaces here", "the kernel has no Landlock"))
    try:
        with pytest.raises(SandboxUnavailable) as refused:
            plan(SandboxOptions(), stage, 3, 10, None, host=bare)
    finally:
        stage.remove()

    message = str(refused.value)
    assert message.startswith("auditbot will not run tool code here: no sandbox layer could be set up")
    assert "the kernel has no Landlock" in message and "docs/security.md" in message
    assert "AUDITBOT_SANDBOX=off" in message


def test_an_unusable_sandbox_interpreter_is_refused_clearly(tmp_path: Path, read_only_broker):
    run = run_tool(_tool(tmp_path), "t", params={}, output_dir=tmp_path / "out", broker=read_only_broker(),
                   sandbox=SandboxOptions(python=str(tmp_path / "no-such-python")))

    assert not run.ok and run.error_type == "SandboxUnavailable"
    assert "the sandbox interpreter" in run.error and "AUDITBOT_SANDBOX_PYTHON" in run.error


def test_sandbox_off_warns_on_every_run(tmp_path: Path, read_only_broker, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="workers.sandbox")
    runs = [run_tool(_tool(tmp_path), "t", params={}, output_dir=tmp_path / f"out{i}", broker=read_only_broker(),
                     sandbox=SandboxOptions(enabled=False)) for i in range(2)]

    assert all(run.ok and run.progress == [sandbox_off_warning()] for run in runs)
    assert [r.getMessage() for r in caplog.records].count(sandbox_off_warning()) == 2


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Chromium")
def test_the_browser_reaches_only_the_console(attack, aws, console_site):
    redis_port = 6379
    run = attack('''
        import json
        from selenium.common.exceptions import WebDriverException

        def attempt(action):
            try:
                return action()
            except WebDriverException as exc:
                return "refused: " + exc.msg.splitlines()[0][:200]

        def run(ctx, paths, endpoint, redis_port, console):
            with ctx.browser() as driver:
                def body(url):
                    driver.get(url)
                    return driver.find_element("tag name", "body").text[:300]
                executor = driver.command_executor
                session = f"/session/{driver.session_id}"
                own = json.dumps({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/bin/sh"}}}})
                return {
                    "console": attempt(lambda: body(console)),
                    "redis": attempt(lambda: body(f"http://127.0.0.1:{redis_port}/")),
                    "metadata": attempt(lambda: body("http://169.254.169.254/latest/meta-data/")),
                    "moto": attempt(lambda: body(endpoint)),
                    "file": attempt(lambda: body("file:///etc/passwd")),
                    "fetch": attempt(lambda: driver.execute_async_script(
                        "fetch(arguments[0]).then(r => r.text()).then(arguments[1], e => arguments[1]('failed'))",
                        endpoint)),
                    "cookies": executor._request("GET", f"http://bridge{session}/cookie")["status"],
                    "cdp": executor._request("POST", f"http://bridge{session}/goog/cdp/execute",
                                             json.dumps({"cmd": "Browser.getVersion", "params": {}}))["status"],
                    "own_session": executor._request("POST", "http://bridge/session", own)["status"],
                }
    ''', redis_port=redis_port, console=console_site.console_url, console_url=console_site.console_url,
        timeout=90)

    assert run.ok, run.error
    value = run.value
    assert "not allowed" not in value["console"]
    for target in ("redis", "metadata", "moto"):
        assert "auditbot's browser may only reach the AWS console" in value[target], value[target]
    assert value["file"].startswith("refused: invalid argument") or "only open http(s)" in value["file"]
    assert value["fetch"] == "failed" or "may only reach the AWS console" in value["fetch"]
    assert (value["cookies"], value["cdp"], value["own_session"]) == (400, 400, 500)


def _tool(tmp_path: Path) -> Path:
    path = tmp_path / "t.py"
    path.write_text('def run(ctx):\n    return {"summary": "ran"}\n')
    return path


def _sha(tmp_path: Path) -> str:
    return hashlib.sha256(_tool(tmp_path).read_bytes()).hexdigest()
