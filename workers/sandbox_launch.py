"""How a tool's process is started: which sandbox layers this host can give, and the command that gives them.

Layers, each used wherever the host has it (`probe` finds out once per worker process):

- `uid` (the worker runs as root): each run gets a uid (and gid) of its own, drawn from
  `AUDITBOT_SANDBOX_UIDS` ids from `AUDITBOT_SANDBOX_UID` on, so RLIMIT_NPROC holds per run, no file of
  the worker's is readable and no two runs share a user.
- `bwrap` (bubblewrap and user namespaces): new user, mount, pid, net, ipc, uts and cgroup namespaces;
  no capabilities; a read-only view of the interpreter, its packages and the tool only; `/output`
  writable; a size-limited `/tmp`.
- `rlimits`: CPU, memory, file size, process and open-file limits.
- `landlock-vN` (Linux 5.13+ with Landlock on): the kernel's path allowlist, again; no TCP from ABI 4.
- `seccomp` (libseccomp's Python binding): no sockets but AF_UNIX, no ptrace, mount, namespaces,
  io_uring, bpf, keyrings ...

The last three are applied by the tool's process itself, before it loads the tool (sandbox_confine).
When none of `uid`, `bwrap`, `landlock` and `seccomp` can be had, tool code is not run at all.
`AUDITBOT_SANDBOX=off` (development only) runs the tool as a plain child process and warns every time.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from workers import sandbox_landlock
from workers.sandbox_confine import Confinement, Limits
from workers.sandbox_stage import Stage, workers_dir
from workers.settings import Settings

logger = logging.getLogger(__name__)

BWRAP = "/usr/bin/bwrap"
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"
APP = "/opt/auditbot/lib"
TOOL_DIR = "/opt/auditbot/tool"
OUTPUT = "/output"
TMP = "/tmp"
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/sbin")
DEVICES_READ = ("/dev/urandom", "/dev/random", "/dev/zero")
DEVICES_WRITE = ("/dev/null",)
PROBE_SECONDS = 20
_PROBE = """
import json, os, sys
try:
    import seccomp
    found = seccomp.__file__
except ImportError:
    found = None
print(json.dumps({"version": list(sys.version_info[:2]), "prefix": sys.base_prefix, "seccomp": found,
                  "unreadable": [p for p in sys.argv[1:] if not os.access(p, os.R_OK | os.X_OK)]}))
"""


def sandbox_off_warning() -> str:
    return ("AUDITBOT_SANDBOX=off: this tool runs WITHOUT a sandbox (same user as the worker, network and files "
            "reachable). For development only.")


def no_layer_available(reasons: list[str]) -> str:
    return ("auditbot will not run tool code here: no sandbox layer could be set up ("
            + "; ".join(reasons) + "). See docs/security.md for what a deployment needs, or set "
            "AUDITBOT_SANDBOX=off on a development machine.")


def interpreter_unusable(python: str, uid: int, detail: str) -> str:
    return (f"auditbot will not run tool code here: the sandbox interpreter {python} cannot be run as uid {uid} "
            f"({detail}). Set AUDITBOT_SANDBOX_PYTHON to a Python {sys.version_info.major}."
            f"{sys.version_info.minor} that this user can read, or see docs/security.md.")


class SandboxUnavailable(Exception):
    """Tool code must not run on this host as configured; the message says why and what to do."""


@dataclass(frozen=True)
class SandboxOptions:
    """The sandbox as configured (see workers/settings.py for the variables)."""

    enabled: bool = True
    uid: int = 200_000
    uid_count: int = 10_000
    python: str = "/usr/bin/python3"
    limits: Limits = field(default_factory=Limits)
    tmpfs_bytes: int = 256 * 1024 * 1024
    bubblewrap: bool = True  # False: only the layers a host without user namespaces has (tests use it)
    redact_values: tuple[str, ...] = field(default=(), repr=False)  # secrets scrubbed from what comes back

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxOptions:
        return cls(enabled=settings.auditbot_sandbox.strip().lower() != "off", uid=settings.auditbot_sandbox_uid,
                   uid_count=settings.auditbot_sandbox_uids, python=settings.auditbot_sandbox_python,
                   limits=Limits(memory_bytes=settings.auditbot_sandbox_memory_mb * 1024 * 1024),
                   redact_values=tuple(settings.secret_values))


@dataclass(frozen=True)
class Host:
    """What this host can give a tool's process, found once by `probe`."""

    switch_uid: bool
    bwrap: bool
    landlock_abi: int
    seccomp_module: str | None
    prefix: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Launch:
    """Everything `subprocess.Popen` needs to start one tool's process, and the paths it sees."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    user: int | None
    group: int | None
    layers: list[str]
    confinement: Confinement
    tool_path: str
    output_dir: str


def run_identity(options: SandboxOptions) -> int | None:
    """The uid (and gid) of one run, fresh from the configured range; None when tools cannot run as
    another user here. Raises `SandboxUnavailable`."""
    if options.enabled and probe(options).switch_uid:
        return options.uid + secrets.randbelow(options.uid_count)
    return None


def _site_packages() -> str:
    return sysconfig.get_paths()["purelib"]


def system_binds() -> list[str]:
    """Read-only binds of the system dirs, keeping merged-/usr symlinks as symlinks."""
    args = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _run_as(options: SandboxOptions) -> dict[str, object]:
    if os.geteuid() != 0:
        return {}
    return {"user": options.uid, "group": options.uid, "extra_groups": []}


@cache
def probe(options: SandboxOptions) -> Host:
    """Find out which layers work here, by starting the sandbox interpreter the way a tool is started."""
    env = {"PATH": CHILD_PATH, "LANG": "C.UTF-8"}
    try:
        argv = [options.python, "-s", "-c", _PROBE, _site_packages(), str(workers_dir())]
        found = subprocess.run(argv, env=env, cwd="/", capture_output=True, timeout=PROBE_SECONDS, check=True,
                               **_run_as(options))  # type: ignore[call-overload]
        facts = json.loads(found.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise SandboxUnavailable(interpreter_unusable(options.python, options.uid, str(exc))) from None
    if tuple(facts["version"]) != sys.version_info[:2]:
        raise SandboxUnavailable(interpreter_unusable(
            options.python, options.uid, f"it is Python {'.'.join(map(str, facts['version']))}, the worker's "
            "packages are for this worker's version"))
    problems = []
    switch_uid = os.geteuid() == 0 and not facts["unreadable"]
    if os.geteuid() == 0 and facts["unreadable"]:
        problems.append(f"uid {options.uid} cannot read {', '.join(facts['unreadable'])}, so tools run as root "
                        "(without capabilities); install auditbot where that user can read it")
    bwrap = options.bubblewrap and _bwrap_works(options, facts["prefix"], switch_uid)
    if not options.bubblewrap:
        problems.append("bubblewrap is not used (its option is off)")
    elif not bwrap:
        problems.append("bubblewrap cannot create namespaces here (is it installed, are user namespaces allowed?)")
    if os.geteuid() != 0:
        problems.append("the worker is not root, so tools run as the worker's own user")
    abi = sandbox_landlock.abi_version()
    if not abi:
        problems.append("the kernel has no Landlock")
    if not facts["seccomp"]:
        problems.append("libseccomp's Python binding (Debian python3-seccomp) is missing")
    if problems:
        logger.warning("tool sandbox: %s", "; ".join(problems))
    return Host(switch_uid=switch_uid, bwrap=bwrap, landlock_abi=abi, seccomp_module=facts["seccomp"],
                prefix=facts["prefix"], problems=tuple(problems))


def _prefix_binds(prefix: str) -> list[str]:
    return [] if prefix == "/usr" or prefix.startswith("/usr/") else ["--ro-bind", prefix, prefix]


def _bwrap_works(options: SandboxOptions, prefix: str, switch_uid: bool) -> bool:
    if not os.path.exists(BWRAP):
        return False
    argv = [BWRAP, "--unshare-all", "--cap-drop", "ALL", "--die-with-parent", *system_binds(),
            *_prefix_binds(prefix), "--proc", "/proc", "--dev", "/dev", options.python, "-S", "-c", ""]
    try:
        return subprocess.run(argv, env={}, cwd="/", capture_output=True, timeout=PROBE_SECONDS,
                              **(_run_as(options) if switch_uid else {})).returncode == 0  # type: ignore[call-overload]
    except (OSError, subprocess.SubprocessError):
        return False


def plan(options: SandboxOptions, stage: Stage, fd: int, timeout: float, identity: int | None,
         host: Host | None = None) -> Launch:
    """The launch of one tool's process on socket `fd` as uid `identity` (None: the worker's), with the
    layers `host` (default: this host's) has.

    Raises `SandboxUnavailable`.
    """
    if not options.enabled:
        env = {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "HOME": str(stage.tmp), "TMPDIR": str(stage.tmp)}
        return Launch([sys.executable, "-I", "-m", "workers.sandbox_child", str(fd)], env, str(stage.tmp), None,
                      None, [], Confinement(), str(stage.tool), str(stage.out))
    host = host or probe(options)
    if not (host.switch_uid or host.bwrap or host.landlock_abi or host.seccomp_module):
        raise SandboxUnavailable(no_layer_available(list(host.problems)))
    limits = replace(options.limits, cpu_seconds=int(timeout) + 30)
    seccomp_file = Path(host.seccomp_module) if host.seccomp_module else None
    if host.bwrap:
        return _bwrapped(options, host, stage, fd, limits, seccomp_file, identity)
    return _direct(options, host, stage, fd, limits, seccomp_file, identity)


def _child_env(home: str, python_path: list[str]) -> dict[str, str]:
    return {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "HOME": home, "TMPDIR": home,
            "PYTHONPATH": ":".join(python_path), "PYTHONDONTWRITEBYTECODE": "1"}


def _child_argv(python: str, fd: int) -> list[str]:
    """-S: no site (no .pth file runs), -s: no user site, -P: nothing from the working directory."""
    return [python, "-S", "-s", "-P", "-m", "workers.sandbox_child", str(fd)]


def _layers(host: Host, *launcher: str) -> tuple[list[str], bool, bool]:
    layers = [*launcher, "rlimits"]
    if host.landlock_abi:
        layers.append(f"landlock-v{host.landlock_abi}")
    if host.seccomp_module:
        layers.append("seccomp")
    return layers, bool(host.landlock_abi), bool(host.seccomp_module)


def _bwrapped(options: SandboxOptions, host: Host, stage: Stage, fd: int, limits: Limits,
              seccomp_file: Path | None, identity: int | None) -> Launch:
    site, tool, prefix = _site_packages(), f"{TOOL_DIR}/{stage.tool.name}", host.prefix
    binds = ["--ro-bind", str(stage.workers_dir), f"{APP}/workers", "--ro-bind", site, site,
             "--ro-bind", str(stage.tool), tool, "--bind", str(stage.out), OUTPUT]
    if seccomp_file:
        binds += ["--ro-bind", str(seccomp_file), f"{APP}/{seccomp_file.name}"]
    env = _child_env(TMP, [APP, site])
    argv = [BWRAP, "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--clearenv",
            "--new-session", "--die-with-parent", *system_binds(), *_prefix_binds(prefix), *binds,
            "--proc", "/proc", "--dev", "/dev", "--size", str(options.tmpfs_bytes), "--tmpfs", TMP,
            "--remount-ro", "/", "--chdir", TMP]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    layers, landlock, seccomp = _layers(host, *(["uid"] if identity is not None else []), "bwrap")
    confinement = Confinement(limits=limits, landlock=landlock, seccomp=seccomp,
                              landlock_read=[*SYSTEM_DIRS, prefix, APP, site, tool, *DEVICES_READ],
                              landlock_write=[OUTPUT, TMP, *DEVICES_WRITE])
    return Launch([*argv, *_child_argv(options.python, fd)], {}, "/", identity, identity, layers,
                  confinement, tool, OUTPUT)


def _direct(options: SandboxOptions, host: Host, stage: Stage, fd: int, limits: Limits,
            seccomp_file: Path | None, identity: int | None) -> Launch:
    site, prefix, extensions = _site_packages(), host.prefix, stage.root / "ext"
    extensions.mkdir()
    if seccomp_file:
        (extensions / seccomp_file.name).symlink_to(seccomp_file)
    extensions.chmod(0o555)
    layers, landlock, seccomp = _layers(host, *(["uid"] if identity is not None else []))
    confinement = Confinement(limits=limits, landlock=landlock, seccomp=seccomp,
                              landlock_read=[*SYSTEM_DIRS, prefix, str(stage.lib), str(stage.workers_dir), site,
                                             str(extensions), str(stage.tool), *DEVICES_READ],
                              landlock_write=[str(stage.out), str(stage.tmp), *DEVICES_WRITE])
    return Launch(_child_argv(options.python, fd), _child_env(str(stage.tmp), [str(stage.lib), site, str(extensions)]),
                  str(stage.tmp), identity, identity, layers, confinement, str(stage.tool), str(stage.out))

