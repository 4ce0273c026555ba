"""Attacks with processes and resources: other programs, raw system calls, bombs, floods and orphans."""

from __future__ import annotations

import uuid

from tests.security.processes import gone_within
from workers.sandbox_confine import Limits


def marker() -> str:
    """A number no other process on the machine has in its command line."""
    return str(uuid.uuid4().int % 10**12 + 10**12)


def test_subprocess_and_os_system_see_nothing_of_the_worker(attack):
    run = attack('''
        import os, subprocess

        def run(ctx, paths, endpoint):
            got = []
            for argv in (["cat", paths["credentials"]], ["cat", paths["env_file"]], ["env"],
                         ["sh", "-c", "cat /proc/1/environ /proc/$PPID/environ"]):
                try:
                    done = subprocess.run(argv, capture_output=True, timeout=5)
                    got.append(done.stdout.decode("utf-8", "replace"))
                except OSError as exc:
                    got.append(type(exc).__name__)
            status = os.system(f"cat {paths['other_tool']} > {ctx.output_path('stolen.txt')} 2>/dev/null")
            return {"got": got, "status": status}
    ''')

    assert run.ok, run.error
    credentials, env_file, env, environs = run.value["got"]
    assert credentials == env_file == environs == ""
    assert "AWS_" not in env and "SLACK" not in env and "TOKEN" not in env
    assert run.value["status"] != 0 and [f.read_text() for f in run.files] == [""]


def test_a_forked_child_has_no_network_either(attack):
    run = attack('''
        import os, socket

        def run(ctx, paths, endpoint):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    socket.create_connection(("127.0.0.1", 6379), timeout=2)
                    os.write(write, b"connected")
                except OSError as exc:
                    os.write(write, type(exc).__name__.encode())
                os._exit(0)
            os.waitpid(pid, 0)
            return {"got": os.read(read, 100).decode()}
    ''')

    assert run.ok, run.error
    assert run.value == {"got": "PermissionError"}


def test_ctypes_system_calls_are_refused_by_the_kernel(attack):
    run = attack('''
        import ctypes, os

        def run(ctx, paths, endpoint):
            libc = ctypes.CDLL(None, use_errno=True)
            results = {
                "socket_inet": libc.socket(2, 1, 0),
                "unshare_user": libc.unshare(0x10000000),
                "ptrace_parent": libc.ptrace(16, os.getppid(), 0, 0),
                "mount": libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
                "setsid": libc.setsid(),
                "io_uring_setup": libc.syscall(425, 8, None),
                "bpf": libc.syscall(321, 0, None, 0),
                "keyctl": libc.syscall(250, 0, 0, 0, 0, 0),
                "userfaultfd": libc.syscall(323, 0),
            }
            return {"got": {name: value for name, value in results.items() if value >= 0}}
    ''')

    assert run.ok, run.error
    assert run.value == {"got": {}}


def test_a_fork_bomb_stops_at_the_process_limit(attack):
    sleeper = marker()
    run = attack(f'''
        import os

        def run(ctx, paths, endpoint):
            started = 0
            for _ in range(5000):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    os.execv("/usr/bin/sleep", ["sleep", "{sleeper}"])
                started += 1
            return {{"got": started}}
    ''', limits=Limits(processes=32))

    assert run.ok, run.error
    assert run.value["got"] < 32
    assert gone_within(sleeper, 10)


def test_a_memory_bomb_fails(attack):
    run = attack('''
        def run(ctx, paths, endpoint):
            hoard = [bytearray(64 * 1024 * 1024) for _ in range(64)]
            return {"got": len(hoard)}
    ''', limits=Limits(memory_bytes=512 * 1024 * 1024))

    assert not run.ok and run.error_type == "MemoryError"


def test_an_infinite_loop_is_stopped(attack):
    run = attack('''
        def run(ctx, paths, endpoint):
            while True:
                pass
    ''', timeout=2)

    assert not run.ok and run.timed_out


def test_a_gigabyte_of_output_is_capped(attack):
    run = attack('''
        import sys

        def run(ctx, paths, endpoint):
            chunk = "x" * (1024 * 1024)
            for _ in range(1024):
                sys.stdout.write(chunk)
            sys.stdout.flush()
            outcome = {"stdout": "written"}
            for target in (ctx.output_path("huge.bin"), "/tmp/huge.bin"):
                try:
                    with open(target, "w") as file:
                        for _ in range(1024):
                            file.write(chunk)
                    outcome[target] = "written"
                except OSError as exc:
                    outcome[target] = type(exc).__name__
            for line in range(300):
                ctx.progress(chunk[:65536])
            return {"got": [k for k, v in outcome.items() if v == "written" and k != "stdout"], "big": chunk * 2}
    ''', limits=Limits(file_bytes=8 * 1024 * 1024), tmpfs_bytes=8 * 1024 * 1024, timeout=60)

    assert not run.ok and run.error_type == "ResultTooLarge"
    assert sum(f.stat().st_size for f in run.files) <= 8 * 1024 * 1024
    assert len(run.progress) == 201 and all(len(line) <= 500 for line in run.progress)


def test_a_double_forked_orphan_does_not_outlive_the_run(attack):
    sleeper = marker()
    run = attack(f'''
        import os

        def run(ctx, paths, endpoint):
            if os.fork() == 0:
                try:
                    os.setsid()
                except OSError:
                    pass
                if os.fork() == 0:
                    os.execv("/usr/bin/sleep", ["sleep", "{sleeper}"])
                os._exit(0)
            return {{"got": None}}
    ''')

    assert run.ok, run.error
    assert gone_within(sleeper, 10)
