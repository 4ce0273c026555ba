"""A 500-tool library for scale tests and bench/registry_scale.py, built from bench/data/tool_library.json.

The JSON was derived once from botocore's read operations (first sentence of each operation's
documentation, its required parameters); `iam_users_without_mfa` is a real, hand-written tool. Each
generated module is a valid tool: it pages through its operation and saves the pages as evidence.
"""

from __future__ import annotations

import json
import pprint
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

IAM_USERS_WITHOUT_MFA = '''"""List IAM users that have no MFA device enabled, with their last console sign-in."""

PARAMETERS = {"type": "object", "properties": {}, "required": []}


def run(ctx):
    iam = ctx.client("iam")
    rows = []
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            devices = iam.list_mfa_devices(UserName=user["UserName"])["MFADevices"]
            if not devices:
                rows.append({"user": user["UserName"], "arn": user["Arn"],
                             "last_sign_in": str(user.get("PasswordLastUsed", "never"))})
    ctx.save_json("iam_users_without_mfa.json", {"users": rows})
    return {"summary": f"{len(rows)} IAM users without MFA", "users": [r["user"] for r in rows]}
'''


def specs(count: int = 500) -> list[dict]:
    return json.loads((DATA / "tool_library.json").read_text())[:count]


def module_source(spec: dict) -> str:
    """The module for one library entry."""
    if spec["name"] == "iam_users_without_mfa":
        return IAM_USERS_WITHOUT_MFA
    properties = {p["name"]: {"type": "string", "description": p["description"]} for p in spec["parameters"]}
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    args = "".join(f", {p['name']}" for p in spec["parameters"])
    kwargs = ", ".join(f'"{p["api_name"]}": {p["name"]}' for p in spec["parameters"])
    operation = spec["operation"]
    return (
        f'"""{spec["description"]}"""\n\n'
        f"PARAMETERS = {pprint.pformat(schema, sort_dicts=False, width=110)}\n\n\n"
        f"def run(ctx{args}):\n"
        f'    client = ctx.client("{spec["service"]}")\n'
        f"    kwargs = {{{kwargs}}}\n"
        f'    if client.can_paginate("{operation}"):\n'
        f'        pages = list(client.get_paginator("{operation}").paginate(**kwargs))\n'
        f"    else:\n"
        f"        pages = [client.{operation}(**kwargs)]\n"
        f'    ctx.save_json("{spec["name"]}.json", {{"pages": pages}})\n'
        f'    return {{"summary": f"{spec["name"]}: {{len(pages)}} page(s) saved", "pages": len(pages)}}\n'
    )


def write_library(directory: Path, count: int = 500) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in specs(count):
        path = directory / f"{spec['name']}.py"
        path.write_text(module_source(spec), encoding="utf-8")
        paths.append(path)
    return paths


def requests() -> list[dict]:
    """The labelled set: a request and the tool that should serve it."""
    return json.loads((DATA / "retrieval_requests.json").read_text())


def load_library(registry, count: int = 500, approver: str = "reviewer", start: int = 0) -> int:
    """Import library tools `start`..`count` the way `auditbot tools import` does (static checks
    included) and approve them; returns how many were loaded."""
    from workers.toolsmith import Toolsmith

    smith = Toolsmith(registry, selftest=lambda version: {"ok": True, "calls": 0},
                      requested_by={"user": approver, "imported_from": "bench/data/tool_library.json"})
    loaded = 0
    for spec in specs(count)[start:]:
        result = smith.write_version(spec["name"], module_source(spec), parent=None, note="imported library tool")
        if result.is_error:
            raise ValueError(f"{spec['name']} failed its checks:\n{result.text}")
        registry.decide(spec["name"], result.version.version, approve=True, by=approver)
        loaded += 1
    return loaded
