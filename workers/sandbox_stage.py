"""The folder one tool run lives in, on the worker's side, and what is taken out of it afterwards.

    stage/            the worker's, traversable by the sandbox user
    ├── tool/NAME.py  the approved bytes, read-only: hash-checked here and again where the tool loads them
    ├── lib/workers   a link to the `workers` package (the import path when there is no bubblewrap)
    ├── ext/          links to extension modules from outside the venv (libseccomp's), without bubblewrap
    ├── out/          the tool's, the only place it may write that outlives the run
    └── tmp/          the tool's scratch space when there is no bubblewrap (which gives a tmpfs instead)

Nothing of the worker's own (its data dir, registry cache, `.env`, home) is reachable from here, and
the tool's file is a copy, so it is the same whether the registry cache is readable by the sandbox
user or not. `collect` copies regular, singly-linked files out of `out/`: a symlink or a hard link left
there by the tool could otherwise make the worker publish a file the tool could not read itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import workers

MAX_FILES = 200
BLOCK_BYTES = 8 << 20


def workers_dir() -> Path:
    """The `workers` package's folder: the only part of auditbot the tool's process imports."""
    return Path(workers.__file__).resolve().parent


class CodeChanged(Exception):
    """The tool's file is not the code that was approved."""


def code_changed(path: Path, expected: str, actual: str) -> str:
    return (f"{path.name} is not the approved code: its sha256 is {actual[:16]}..., the approval is for "
            f"{expected[:16]}...; the tool was not run")


@dataclass(frozen=True)
class Stage:
    root: Path
    tool: Path
    lib: Path
    out: Path
    tmp: Path

    @property
    def workers_dir(self) -> Path:
        return workers_dir()

    @classmethod
    def create(cls, tool_path: Path, tool_name: str, code_sha256: str, owner: int | None) -> Stage:
        """Lay out a fresh stage; `owner` (as uid and gid) gets `out/` and `tmp/`. Raises `CodeChanged`."""
        data = tool_path.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != code_sha256:
            raise CodeChanged(code_changed(tool_path, code_sha256, actual))
        root = Path(tempfile.mkdtemp(prefix="auditbot-stage-"))
        stage = cls(root, root / "tool" / f"{tool_name}.py", root / "lib", root / "out", root / "tmp")
        for folder in (stage.tool.parent, stage.lib, stage.out, stage.tmp):
            folder.mkdir()
        stage.tool.write_bytes(data)
        (stage.lib / "workers").symlink_to(stage.workers_dir)
        for path, mode in ((stage.tool, 0o444), (stage.tool.parent, 0o555), (stage.lib, 0o555),
                           (stage.out, 0o700), (stage.tmp, 0o700), (root, 0o711)):
            path.chmod(mode)
        if owner is not None:
            for folder in (stage.out, stage.tmp):
                os.chown(folder, owner, owner)
        return stage

    def collect(self, target: Path, scrub: Callable[[bytes], bytes]) -> tuple[list[Path], list[str]]:
        """Copy the tool's files into `target`, passing text through `scrub`; return them and the names of
        files left behind, with why."""
        files: list[Path] = []
        skipped: list[str] = []
        for folder, _, names in os.walk(self.out):
            for name in sorted(names):
                source = Path(folder) / name
                relative = source.relative_to(self.out)
                if len(files) >= MAX_FILES:
                    skipped.append(f"{relative}: more than {MAX_FILES} files")
                    continue
                reason = _copy_regular(source, target / relative, scrub)
                if reason:
                    skipped.append(f"{relative}: {reason}")
                else:
                    files.append(target / relative)
        return sorted(files), skipped

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _copy_regular(source: Path, destination: Path, scrub: Callable[[bytes], bytes]) -> str:
    """Copy one file the tool left, refusing links; return why it was refused, or ''."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return "not a regular file"
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        if info.st_nlink != 1:
            return "a hard link"
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("wb") as out:
            for block in text_blocks(file):
                out.write(scrub(block))
    return ""


def text_blocks(file: BinaryIO, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """A file in blocks of about `size` that end at a line break (or a space or comma), so a 1 GB export is
    scrubbed without holding it whole and no credential is split across two blocks; a private-key block
    that starts near the end is carried into the next one whole."""
    carry = b""
    while chunk := file.read(size):
        buffer = carry + chunk
        cut = buffer.rfind(b"\n")
        if cut < len(buffer) - size:
            cut = max(cut, buffer.rfind(b" "), buffer.rfind(b","))
        begin = buffer.rfind(b"-----BEGIN", 0, cut + 1)
        if begin > 0 and buffer.find(b"-----END", begin) == -1:
            cut = begin - 1
        if cut < 0 or len(buffer) - cut > 2 * size:
            cut = len(buffer) - 1
        yield buffer[: cut + 1]
        carry = buffer[cut + 1 :]
    if carry:
        yield carry
