"""seccomp: the system calls a tool's process may not make, enforced by the kernel.

Applied by the tool's process to itself after its trusted start-up, before the tool's code is loaded;
inherited by every process the tool starts and impossible to lift. Everything not listed is allowed
(a Python program needs hundreds of calls); what is listed fails with EPERM:

- sockets of any family but AF_UNIX: no network even where there is no network namespace;
- the kernel's large attack surfaces a tool never needs: io_uring, bpf, perf_event_open,
  userfaultfd, keyrings (add_key, request_key, keyctl);
- looking into or taking over other processes: ptrace, process_vm_readv/writev, kcmp, pidfd_getfd;
- changing the sandbox itself: mount and the new mount API, umount, pivot_root, chroot, unshare,
  setns, namespace flags on clone (clone3 answers ENOSYS, so the C library falls back to clone);
- leaving the process group the worker kills at the end: setsid, setpgid;
- file handles that bypass path checks (open_by_handle_at), modules, reboot, swap, accounting.

Uses libseccomp's Python binding (Debian `python3-seccomp`), imported only here.
"""

from __future__ import annotations

import errno
import socket

DENIED = (
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "bpf", "perf_event_open", "userfaultfd",
    "add_key", "request_key", "keyctl",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "setsid", "setpgid",
    "name_to_handle_at", "open_by_handle_at",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "personality",
)
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET


def available() -> bool:
    """Whether libseccomp's binding can be imported by this interpreter."""
    try:
        import seccomp  # noqa: F401
    except ImportError:
        return False
    return True


def restrict() -> None:
    """Load the filter into this process (and, by inheritance, every process it starts)."""
    import seccomp

    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        rules.add_rule(deny, name)
    rules.add_rule(deny, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()
