"""The checks every new tool version gets before it can be approved.

`check_source` runs six stages in order; each adds findings, and the report lists them by line.
One blocking finding keeps the version from approval. A report is produced even for code that does
not compile: the stages that need a syntax tree are skipped.

Codes (all block approval except the warnings marked so):
- ENC001 encoding: a PEP 263 coding cookie other than UTF-8; the file would run as other text than reviewed.
- ENC002 encoding: not valid UTF-8; no later stage runs.
- SYN001 compile: `compile()` refuses the source.
- CON001 contract: the module breaks the tool contract (`workers.tool_contract`).
- F..., E9... ruff's own codes: hygiene (`_RUFF_WARNINGS`) warns, likely bugs block.
- RUF000 ruff: ruff could not run, so the version is unchecked (fails closed).
- POL000 policy: the code nests too deeply for the policy walk, so it is unchecked (fails closed).
- POL001 policy: an import, or a path from an imported package, outside `ALLOWED_MODULES`.
- POL002 policy: a banned builtin (`exec`, `eval`, `open` ...), called or only named.
- POL003 policy: a dunder attribute or name (`__name__`, `__init__` excepted), also inside format fields.
- POL004 policy: `getattr`/`setattr`/`delattr`/`attrgetter`/`methodcaller` without a literal name.
- POL005 policy: a member that leads out of the allowed modules: private (`_x`), frame internals
  (`f_globals`), powerful modules (`typing.sys`, `enum.bltns`), file and code loaders (`io.open`).
- UNI001 text: a bidirectional control character (Trojan Source).
- UNI002 text: another control character (tab, newline, carriage return excepted) or a line separator.
- UNI003 text: a non-ASCII identifier; Python NFKC-normalises it, so `ｅｘｅｃ` runs as `exec`.
- UNI004 text (warning): an invisible format character, such as a zero-width space, in a string or comment.

The policy is a tripwire for known escape shapes and a help to the approver; it is not the security
boundary. The sandbox is: the tool's process holds no credentials, reaches AWS only through the broker,
and must confine its files and network, since allowed libraries can still open files (`reportlab` reads
image paths). Decisions: `base64` is allowed (screenshots and blobs arrive base64-encoded; decoded bytes
cannot become code while `exec`, `eval`, `compile` and `__import__` are banned). `selenium` is limited to
the modules that drive the browser `ctx.browser()` gives: `selenium.webdriver.Chrome` and its `Service`
start any executable. `super().__init__()` is ordinary subclassing, so `__init__` is allowed.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tokenize
import types
import unicodedata
import warnings
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from workers.tool_contract import ContractError, source_sha256, spec_from_source

ALLOWED_MODULES = frozenset(
    {
        "__future__", "base64", "calendar", "collections", "copy", "csv", "dataclasses", "datetime",
        "decimal", "difflib", "enum", "fnmatch", "functools", "hashlib", "html", "io", "ipaddress",
        "itertools", "json", "math", "operator", "pprint", "re", "statistics", "string", "textwrap",
        "time", "typing", "urllib.parse", "uuid", "zoneinfo",
        "botocore.exceptions", "deepdiff", "fpdf", "openpyxl", "reportlab",
        "selenium.common.exceptions", "selenium.webdriver.common.action_chains",
        "selenium.webdriver.common.by", "selenium.webdriver.common.keys",
        "selenium.webdriver.common.print_page_options", "selenium.webdriver.remote.webelement",
        "selenium.webdriver.support.expected_conditions", "selenium.webdriver.support.select",
        "selenium.webdriver.support.ui", "selenium.webdriver.support.wait",
    }
)
"""Modules a tool may import; each allows its submodules too, except private (`_x`) ones."""

RUFF_TIMEOUT_S = 10

_RUFF_WARNINGS = frozenset(
    {"F401", "F402", "F403", "F405", "F504", "F522", "F523", "F541", "F601", "F602", "F722", "F841", "F842"}
)
"""Ruff codes that are hygiene (unused names, redundant f-strings); every other code is a likely bug."""

_BANNED_BUILTINS = frozenset(
    {"exec", "eval", "compile", "__import__", "open", "globals", "locals", "vars", "breakpoint", "input",
     "memoryview", "help"}
)
_ATTR_BY_NAME = frozenset({"getattr", "setattr", "delattr"})
_ATTR_FACTORIES = frozenset({"attrgetter", "methodcaller"})
_ATTR_FUNCTIONS = _ATTR_BY_NAME | _ATTR_FACTORIES
_ALLOWED_DUNDERS = frozenset({"__name__", "__init__"})
_SELF_NAMES = frozenset({"self", "cls"})

_POWERFUL_MODULES = frozenset(
    {
        "os", "posix", "nt", "sys", "builtins", "bltns", "importlib", "imp", "inspect", "types", "ctypes",
        "gc", "subprocess", "posixsubprocess", "multiprocessing", "threading", "thread", "signal", "asyncio",
        "socket", "ssl", "http", "requests", "urllib3", "ftplib", "smtplib", "pickle", "marshal", "shelve",
        "codecs", "shutil", "pathlib", "tempfile", "glob", "fileinput", "linecache", "zipfile", "tarfile",
        "logging", "platform", "runpy", "pdb", "pydoc", "webbrowser", "zipimport", "mmap", "pty", "fcntl",
        "timeit", "cProfile", "doctest", "codeop", "pkgutil",
    }
)
"""Module names that allowed modules leak as attributes (`typing.sys`, `enum.bltns`, `json.codecs`)."""

_LOADERS = frozenset(
    {
        "open_code", "FileIO", "get_type_hints", "ForwardRef", "singledispatch",
        "singledispatchmethod", "get_field", "recursiveImport", "rl_get_module", "rl_add_builtins",
        "find_locals", "recursiveGetAttr", "recursiveSetAttr", "recursiveDelAttr", "open_for_read",
        "open_for_read_by_name", "open_and_read", "open_and_readlines", "rlUrlRead", "rl_safe_eval",
        "rl_less_safe_eval", "pickle_load", "pickle_dump", "Delta", "load_path_content",
    }
)
"""Members of allowed modules that open files, evaluate strings as code or unpickle, banned by name."""
_BANNED_PATHS = frozenset({"io.open"})
"""Members banned by their full path only: `.open` itself is how a tool writes to `ctx.output_path(...)`."""

_FRAME_ATTRS = frozenset(
    attr
    for kind in (types.FrameType, types.CodeType, types.TracebackType, types.GeneratorType,
                 types.CoroutineType, types.AsyncGeneratorType)
    for attr in dir(kind)
    if re.match(r"(?:f|co|tb|gi|cr|ag)_", attr)
)
_DUNDER_RE = re.compile(r"__\w+__\Z")
_FORMAT_FIELD_RE = re.compile(r"\{[^{}]*\.\s*_")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_UNUSUAL_CHAR_RE = re.compile(r"[^\x20-\x7e\t\n\r]")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_CHARACTER_MESSAGES = {
    "UNI001": "bidirectional control character {} can make code read differently than it runs",
    "UNI002": "control character {} is not allowed in source",
    "UNI004": "invisible character {} in the text",
}


@dataclass
class Finding:
    """One problem, where it is (1-based line and column; 0 when unknown) and whether it blocks approval."""

    line: int
    col: int
    code: str
    message: str
    blocking: bool


@dataclass
class CheckReport:
    """Every finding for one version of a tool's source, identified by its sha256."""

    tool: str
    sha256: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(f.blocking for f in self.findings)

    def to_dict(self) -> dict:
        return {"tool": self.tool, "sha256": self.sha256, "blocking": self.blocking,
                "findings": [asdict(f) for f in self.findings]}

    @classmethod
    def from_dict(cls, data: dict) -> CheckReport:
        return cls(data["tool"], data["sha256"], [Finding(**f) for f in data["findings"]])

    def render(self) -> str:
        """Short text for the chat and for Claude: one line per finding."""
        if not self.findings:
            return "all checks passed"
        return "\n".join(
            f"L{f.line}: {f.code} {f.message}" + ("" if f.blocking else " (warning)") for f in self.findings
        )


def check_source(name: str, source: str | bytes) -> CheckReport:
    """Run every stage on one tool version; bytes are checked as submitted, str as its UTF-8 text."""
    sha = hashlib.sha256(source).hexdigest() if isinstance(source, bytes) else source_sha256(source)
    text, findings = _decode(source)
    if text is not None:
        tree, compile_findings = _compile(name, text)
        findings += compile_findings
        if tree is not None:
            findings += _contract(name, text)
            findings += _ruff(name, text)
            findings += _policy(text, tree)
            findings += _identifiers(text)
        findings += _characters(text)
    findings.sort(key=lambda f: (f.line, f.col))
    return CheckReport(name, sha, findings)


def _finding(line: int, col: int, code: str, message: str, blocking: bool = True) -> Finding:
    """Escape anything unprintable, so a report never carries the characters it warns about."""
    clean = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)
    return Finding(line, col, code, clean, blocking)


class _Lines:
    """Line and column of offsets, counting line breaks the way Python's tokenizer does."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in _NEWLINE_RE.finditer(text)]
        self.text = text

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def col_of(self, node: ast.AST) -> int:
        """ast columns count UTF-8 bytes; findings count characters."""
        start = self.starts[node.lineno - 1]
        line = self.text[start:start + node.col_offset]
        return len(line.encode()[: node.col_offset].decode("utf-8", "ignore")) + 1


# --- 1. encoding -----------------------------------------------------------------------------------


def _decode(source: str | bytes) -> tuple[str | None, list[Finding]]:
    if isinstance(source, str):
        try:
            data = source.encode("utf-8")
        except UnicodeEncodeError as exc:
            line, col = _Lines(source).position(exc.start)
            return None, [_finding(line, col, "ENC002", "a lone surrogate is not valid UTF-8")]
        text = source
    else:
        data = source
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return None, [_finding(line, 0, "ENC002", f"byte 0x{data[exc.start]:02x} is not valid UTF-8")]
    return text, _coding_cookie(data)


def _coding_cookie(data: bytes) -> list[Finding]:
    try:
        encoding, lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return [_finding(1, 0, "ENC001", f"bad coding cookie: {exc.msg}")]
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return []
    return [_finding(len(lines), 0, "ENC001",
                     f"coding cookie declares {encoding}; only UTF-8 is allowed, so the code that runs is "
                     "the code that was reviewed")]


# --- 2. compile, 3. contract -------------------------------------------------------------------------


def _compile(name: str, text: str) -> tuple[ast.Module | None, list[Finding]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruff reports what SyntaxWarnings would
        try:
            compile(text, f"{name}.py", "exec", dont_inherit=True)
            return ast.parse(text, f"{name}.py"), []
        except SyntaxError as exc:
            return None, [_finding(exc.lineno or 1, exc.offset or 0, "SYN001", exc.msg)]
        except (ValueError, RecursionError, MemoryError) as exc:
            return None, [_finding(1, 0, "SYN001", f"cannot compile: {type(exc).__name__}")]


def _contract(name: str, text: str) -> list[Finding]:
    try:
        spec_from_source(name, text)
    except ContractError as exc:
        return [_finding(exc.line, 0, "CON001", exc.message)]
    return []


# --- 4. ruff -----------------------------------------------------------------------------------------


@cache
def _ruff_binary() -> str | None:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.is_file() else shutil.which("ruff")


def _ruff(name: str, text: str) -> list[Finding]:
    binary = _ruff_binary()
    if binary is None:
        return [_finding(1, 0, "RUF000", "ruff is not installed, so the code was not linted")]
    command = [binary, "check", "--no-cache", "--isolated", "--ignore-noqa", "--output-format", "json",
               "--select", "E9,F", f"--target-version=py3{sys.version_info.minor}",
               "--stdin-filename", f"{name}.py", "-"]
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, env={},
                              timeout=RUFF_TIMEOUT_S, check=False)
        results = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return [_finding(1, 0, "RUF000", f"ruff failed ({type(exc).__name__}), so the code was not linted")]
    return [
        _finding(r["location"]["row"], r["location"]["column"], r["code"] or "E999", r["message"],
                 r["code"] not in _RUFF_WARNINGS)
        for r in results
    ]


# --- 5. policy ---------------------------------------------------------------------------------------


def _allowed(module: str) -> bool:
    """True for an allowed module or anything inside it, unless the path goes through a private part."""
    if any(part.startswith("_") for part in module.split(".")[1:]):
        return False
    return any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)


def _on_the_way(module: str) -> bool:
    """A package that holds allowed modules but is not allowed itself (`urllib`, `selenium.webdriver`)."""
    return any(m.startswith(module + ".") for m in ALLOWED_MODULES)


def _member_problem(attr: str, owner: ast.expr | None) -> tuple[str, str] | None:
    """Why reaching `owner.attr` is refused, as (code, message); None when it is fine."""
    if _DUNDER_RE.match(attr):
        return None if attr in _ALLOWED_DUNDERS else ("POL003", f"dunder attribute {attr} is not allowed")
    if attr.startswith("_") and not (isinstance(owner, ast.Name) and owner.id in _SELF_NAMES):
        return "POL005", f"private member {attr} of another object is not allowed"
    if attr in _FRAME_ATTRS:
        return "POL005", f"attribute {attr} reaches interpreter frames or code objects"
    if attr.lstrip("_") in _POWERFUL_MODULES:
        return "POL005", f"attribute {attr} reaches a module tools may not use"
    if attr in _LOADERS:
        return "POL005", f"{attr} opens files, loads code or evaluates strings; use ctx instead"
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _module_aliases(tree: ast.Module) -> dict[str, set[str]]:
    """Each name an import binds, mapped to the dotted paths it may stand for (flow-insensitive)."""
    aliases: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                aliases.setdefault(alias.asname or root, set()).add(alias.name if alias.asname else root)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")
    return aliases


def _policy(text: str, tree: ast.Module) -> list[Finding]:
    try:
        return _Policy(text, tree).findings
    except RecursionError:
        return [_finding(1, 0, "POL000", "the code nests too deeply to be checked")]


class _Policy(ast.NodeVisitor):
    """Walks the tree once and collects policy findings."""

    def __init__(self, text: str, tree: ast.Module) -> None:
        self.lines = _Lines(text)
        self.aliases = _module_aliases(tree)
        self.vetted: set[int] = set()  # ids of getattr-like callees whose arguments were checked
        self.findings: list[Finding] = []
        self.visit(tree)

    def add(self, node: ast.AST, code: str, message: str) -> None:
        self.findings.append(_finding(node.lineno, self.lines.col_of(node), code, message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _allowed(alias.name):
                self.add(node, "POL001", f"import of {alias.name} is not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.add(node, "POL001", "relative imports are not allowed")
            return
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if alias.name == "*":
                self.add(node, "POL001", f"from {module} import *: star imports hide which names are used")
            elif not (_allowed(module) or _allowed(full)):
                self.add(node, "POL001", f"import of {full} is not allowed")
            elif full in _BANNED_PATHS:
                self.add(node, "POL005", f"{full} opens files; use ctx instead")
            elif problem := _member_problem(alias.name, None):
                self.add(node, *problem)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        if node.id in _BANNED_BUILTINS:
            self.add(node, "POL002", f"{node.id} is not allowed")
        elif _DUNDER_RE.match(node.id) and node.id != "__name__":
            self.add(node, "POL003", f"dunder name {node.id} is not allowed")
        elif node.id in _ATTR_FUNCTIONS and id(node) not in self.vetted:
            self.add(node, "POL004", f"{node.id} may only be called, with a literal attribute name")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if problem := _member_problem(node.attr, node.value):
            self.add(node, *problem)
        elif node.attr in _ATTR_FACTORIES and id(node) not in self.vetted:
            self.add(node, "POL004", f"{node.attr} may only be called, with a literal attribute name")
        self._check_module_path(node)
        self.generic_visit(node)

    def _check_module_path(self, node: ast.Attribute) -> None:
        """`import urllib.parse` binds `urllib`; `urllib.request` must not be reached through it."""
        dotted = _dotted(node)
        if dotted is None:
            return
        root, _, rest = dotted.partition(".")
        for base in self.aliases.get(root, ()):
            path = f"{base}.{rest}"
            parent = path.rpartition(".")[0]
            if path in _BANNED_PATHS:
                self.add(node, "POL005", f"{path} opens files; use ctx instead")
            elif _on_the_way(parent) and not _allowed(parent) and not (_allowed(path) or _on_the_way(path)):
                reached = path if path == dotted else f"{dotted} (that is {path})"
                self.add(node, "POL001", f"{reached} is not an allowed module")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        callee = func.id if isinstance(func, ast.Name) else ""
        callee = func.attr if isinstance(func, ast.Attribute) else callee
        if callee in _ATTR_BY_NAME and isinstance(func, ast.Name):
            self._check_names(node, callee, node.args[1:2], node.args[0] if node.args else None)
        elif callee in _ATTR_FACTORIES:
            self._check_names(node, callee, node.args if callee == "attrgetter" else node.args[:1], None)
        self.generic_visit(node)

    def _check_names(self, call: ast.Call, callee: str, args: list[ast.expr], owner: ast.expr | None) -> None:
        self.vetted.add(id(call.func))
        literal = args and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args)
        if not literal:
            self.add(call, "POL004", f"{callee} needs a literal attribute name")
            return
        for arg in args:
            parts = arg.value.split(".") if callee == "attrgetter" else [arg.value]
            for problem in filter(None, (_member_problem(part, owner) for part in parts)):
                self.add(arg, *problem)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:
            if problem := _member_problem(attr, None):
                self.add(node, *problem)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _FORMAT_FIELD_RE.search(node.value):
            self.add(node, "POL003", "a format field reaches a private or dunder attribute")


# --- 6. text ------------------------------------------------------------------------------------------


def _identifiers(text: str) -> list[Finding]:
    """Read raw tokens: the syntax tree holds identifiers already NFKC-normalised."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    return [
        _finding(t.start[0], t.start[1] + 1, "UNI003",
                 f"identifier {ascii(t.string)} is not ASCII; Python reads it as "
                 f"{ascii(unicodedata.normalize('NFKC', t.string))}")
        for t in tokens
        if t.type == tokenize.NAME and not t.string.isascii()
    ]


def _characters(text: str) -> list[Finding]:
    """Bidi and control characters anywhere; one finding per line and kind, naming the code points."""
    lines = _Lines(text)
    found: dict[tuple[int, str], tuple[int, list[str]]] = {}
    for match in _UNUSUAL_CHAR_RE.finditer(text):
        char = match.group()
        kind = _character_kind(char)
        if kind:
            line, col = lines.position(match.start())
            points = found.setdefault((line, kind), (col, []))[1]
            points.append(f"U+{ord(char):04X}")
    return [
        _finding(line, col, kind, _CHARACTER_MESSAGES[kind].format(", ".join(dict.fromkeys(points))),
                 blocking=kind != "UNI004")
        for (line, kind), (col, points) in found.items()
    ]


def _character_kind(char: str) -> str | None:
    if char in _BIDI:
        return "UNI001"
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return "UNI002"
    return "UNI004" if category == "Cf" else None
