"""The optional IAM layer: what a run of one tool may call, as a session policy for AssumeRole.

With `AUDITBOT_READONLY_ROLE_ARN` set, the broker makes each run's calls with credentials of that
read-only role, assumed for the run with a session policy naming only the tool's own actions and a
session name carrying the job id, so CloudTrail ties every call to its run. The effective permissions
are the intersection of the role's and the session policy's: even a broker bug cannot read more.

The actions are read from the tool's source: `ctx.client("service")` with a literal service name, and
method calls (`describe_instances(...)`, `get_paginator("list_users")`) that name an operation of one
of those services. A tool that picks its service or operation at run time (`aws_export_data` does)
has no fixed list; its runs get the role without a session policy, which is still read-only.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable

from botocore import xform_name

SESSION_POLICY_MAX_CHARS = 2048
_IAM_PREFIX = {"monitoring": "cloudwatch"}  # signing names that differ from the IAM action prefix


def session_name(job_id: str) -> str:
    """An AssumeRole session name carrying the job id (at most 64 characters of [\\w+=,.@-])."""
    safe = "".join(c if c.isalnum() or c in "+=,.@-_" else "-" for c in job_id)
    return f"auditbot-{safe}"[:64]


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _services_and_methods(source: str) -> tuple[set[str], set[str]] | None:
    """Literal services of `.client(...)` calls and every method name called; None when dynamic."""
    services, methods = set(), set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name == "client":
            service = _literal(node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "service"), None))
            if service is None:
                return None
            services.add(service)
        elif name in ("get_paginator", "can_paginate"):
            operation = _literal(node.args[0] if node.args else None)
            if operation is None:
                return None
            methods.add(operation)
        else:
            methods.add(name)
    return services, methods


def tool_actions(source: str, operations_of: Callable[[str], tuple[str, list[str]]]) -> list[str] | None:
    """`prefix:Operation` for every operation the tool names, or None when it is chosen at run time.

    `operations_of(service)` gives the service's IAM signing name and its API operation names.
    """
    found = _services_and_methods(source)
    if found is None:
        return None
    services, methods = found
    actions = set()
    for service in services:
        signing_name, operations = operations_of(service)
        prefix = _IAM_PREFIX.get(signing_name, signing_name)
        by_method = {xform_name(op): op for op in operations}
        actions.update(f"{prefix}:{by_method[m]}" for m in methods if m in by_method)
    return sorted(actions)


def session_policy(actions: list[str]) -> str:
    """The session policy allowing `actions`; services as a whole when the list is too long for STS."""
    def policy(names: list[str]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": names or ["sts:GetCallerIdentity"], "Resource": "*"}]},
            separators=(",", ":"))

    text = policy(actions)
    if len(text) > SESSION_POLICY_MAX_CHARS:
        text = policy(sorted({a.split(":")[0] + ":*" for a in actions}))
    return text
