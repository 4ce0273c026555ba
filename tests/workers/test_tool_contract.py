"""The tool-module contract, checked from source: what passes, and the line each refusal points at."""

import hashlib
import textwrap

import pytest

from workers.tool_contract import TOOL_NAME_RE, ContractError, ToolSpec, spec_from_source

CONTRACT_EXAMPLE = '''\
"""Export the events of a CloudWatch Logs log group over the last N days."""

PARAMETERS = {
    "type": "object",
    "properties": {
        "log_group": {"type": "string", "description": "log group name"},
        "days": {"type": "integer", "default": 7, "minimum": 1},
        "format": {"type": "string", "enum": ["json", "csv", "pdf"], "default": "json"},
    },
    "required": ["log_group"],
}


def run(ctx, log_group, days=7, format="json"):
    logs = ctx.client("logs")
    ctx.progress(f"Reading {log_group} ...")
    events = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group):
        events.extend(page["events"])
    ctx.save_json("cloudwatch_logs.json", {"events": events})
    return {"summary": f"Exported {len(events)} events", "events": len(events)}


def selftest(ctx):
    ctx.client("logs").create_log_group(logGroupName="g")
    result = run(ctx, log_group="g", days=1)
    assert result["events"] == 0
'''


def module(params: str, run: str, doc: str = '"""Count things."""', extra: str = "") -> str:
    """A small tool module; PARAMETERS starts on line 3."""
    return f"{doc}\n\nPARAMETERS = {params}\n\n\n{run}\n    return {{}}\n{extra}"


OBJECT = '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}'


def refusal(source: str, name: str = "count_things") -> ContractError:
    with pytest.raises(ContractError) as caught:
        spec_from_source(name, source)
    return caught.value


def test_the_contract_example_gives_its_spec():
    spec = spec_from_source("cloudwatch_logs", CONTRACT_EXAMPLE)

    assert spec == ToolSpec(
        name="cloudwatch_logs",
        description="Export the events of a CloudWatch Logs log group over the last N days.",
        parameters=spec.parameters,
        source_sha256=hashlib.sha256(CONTRACT_EXAMPLE.encode()).hexdigest(),
    )
    assert spec.parameters["required"] == ["log_group"]
    assert spec.parameters["properties"]["days"] == {"type": "integer", "default": 7, "minimum": 1}


def test_claude_tool_is_name_description_and_schema_and_a_copy():
    spec = spec_from_source("cloudwatch_logs", CONTRACT_EXAMPLE)
    tool = spec.to_claude_tool()

    assert tool == {"name": spec.name, "description": spec.description, "input_schema": spec.parameters}
    tool["input_schema"]["properties"].clear()
    assert spec.parameters["properties"], "mutating the Claude definition must not change the spec"


def test_only_the_first_docstring_line_is_the_description():
    source = module(OBJECT, "def run(ctx, n):", doc='"""Count things.\n\nLonger notes for readers."""')
    assert spec_from_source("count_things", source).description == "Count things."


def test_the_source_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    top_level_code = f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n"
    source = module(OBJECT, "def run(ctx, n):", extra=top_level_code)

    assert spec_from_source("count_things", source).name == "count_things"
    assert not marker.exists()


@pytest.mark.parametrize("name", ["abc", "cloudwatch_logs", "s3_bucket_encryption", "a" * 64, "x2_y"])
def test_tool_names_accepted(name):
    assert TOOL_NAME_RE.fullmatch(name)


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 65, "CloudWatch", "2fa_check", "_private", "trailing_", "double__under", "kebab-case",
     "has space", "tail\n"],
)
def test_tool_names_refused(name):
    assert not TOOL_NAME_RE.fullmatch(name)
    assert refusal(module(OBJECT, "def run(ctx, n):"), name=name).line == 1


@pytest.mark.parametrize("name", ["json", "secrets", "for", "test_tool", "generate_new_tool"])
def test_names_that_would_shadow_or_collide_are_refused(name):
    error = refusal(module(OBJECT, "def run(ctx, n):"), name=name)
    assert error.line == 1
    assert name in error.message


def test_missing_docstring():
    error = refusal(module(OBJECT, "def run(ctx, n):", doc="# no docstring"))
    assert error.line == 1
    assert "docstring" in error.message


def test_blank_docstring():
    assert "docstring" in refusal(module(OBJECT, "def run(ctx, n):", doc='"""   """')).message


def test_missing_parameters():
    source = '"""Count things."""\n\n\ndef run(ctx):\n    return {}\n'
    error = refusal(source)
    assert error.line == 1
    assert "PARAMETERS is missing" in error.message


@pytest.mark.parametrize(
    ("params", "line", "words"),
    [
        ('["type", "object"]', 3, "must be a dict"),
        ('dict(type="object")', 3, "literal"),
        ('{"type": "object", "properties": {"n": {"type": SOME_TYPE}}}', 3, "literal"),
        ('{"type": "array", "items": {"type": "string"}}', 3, '"type": "object"'),
        ('{"type": "object", "properties": {"n": {"type": "integer", "enum": (1, 2)}}}', 3, "JSON values"),
        ('{"type": "object", "properties": {"n": {"type": "integer", "default": {1, 2}}}}', 3, "JSON values"),
    ],
)
def test_parameters_must_be_a_literal_json_object_schema(params, line, words):
    error = refusal(module(params, "def run(ctx, n=1):"))
    assert error.line == line
    assert words in error.message


def test_an_invalid_schema_points_at_the_bad_property():
    params = '{\n    "type": "object",\n    "properties": {\n        "n": {"type": "integr"},\n    },\n}'
    error = refusal(module(params, "def run(ctx, n=1):"))
    assert error.line == 6
    assert "properties/n/type" in error.message


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ('{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["m"]}', "'m' is not in"),
        ('{"type": "object", "properties": {"n": {"type": "integer", "default": 1}}, "required": ["n"]}',
         "must not have a default"),
        ('{"type": "object", "properties": {"not-a-name": {"type": "integer"}}}', "cannot be a parameter"),
        ('{"type": "object", "properties": {"ctx": {"type": "integer"}}}', "cannot be a parameter"),
    ],
)
def test_schema_and_signature_must_be_able_to_agree(params, words):
    assert words in refusal(module(params, "def run(ctx, n):")).message


def test_missing_run():
    source = f'"""Count things."""\n\nPARAMETERS = {OBJECT}\n\n\ndef walk(ctx, n):\n    return {{}}\n'
    error = refusal(source)
    assert (error.line, error.message) == (1, "run is missing at the top level of the module")


@pytest.mark.parametrize(
    ("run", "words"),
    [
        ("def run(n, ctx):", "ctx as its first parameter"),
        ("def run(n):", "ctx as its first parameter"),
        ("def run():", "ctx as its first parameter"),
        ("def run(ctx, n, *args):", "*args and **kwargs"),
        ("def run(ctx, n, **kwargs):", "*args and **kwargs"),
        ("def run(ctx, n, /):", "positional-only"),
        ("async def run(ctx, n):", "not async"),
        ("@staticmethod\ndef run(ctx, n):", "decorated"),
    ],
)
def test_run_signature_shape(run, words):
    error = refusal(module(OBJECT, run))
    assert error.line == 6
    assert words in error.message


def test_run_may_be_assigned_only_by_def():
    source = module(OBJECT, "def helper(ctx, n):", extra="run = helper\n")
    assert "defined with def" in refusal(source).message


def test_a_second_run_is_refused_at_its_line():
    source = module(OBJECT, "def run(ctx, n):", extra="\n\ndef run(ctx, n):\n    return {}\n")
    error = refusal(source)
    assert error.line == 10
    assert "more than once" in error.message


PARAMS_N_REQUIRED_DAYS_OPTIONAL = (
    '{"type": "object", "properties": {"n": {"type": "integer"}, "days": {"type": "integer", "default": 7}},'
    ' "required": ["n"]}'
)


@pytest.mark.parametrize(
    ("run", "words"),
    [
        ("def run(ctx, n, days=7, extra=1):", "'extra' is not a property"),
        ("def run(ctx, n):", "'days' is not a parameter of run"),
        ("def run(ctx, n, days):", "'days' is optional in PARAMETERS, so it needs a default"),
        ("def run(ctx, n=1, days=7):", "'n' is required in PARAMETERS"),
        ("def run(ctx, n, days=8):", "default for 'days' (8) differs"),
        ("def run(ctx, n, *, days=8):", "default for 'days' (8) differs"),
    ],
)
def test_run_parameters_must_match_the_schema(run, words):
    error = refusal(module(PARAMS_N_REQUIRED_DAYS_OPTIONAL, run))
    assert error.line == 6
    assert words in error.message


@pytest.mark.parametrize(
    "run",
    [
        "def run(ctx, n, days=7):",
        "def run(ctx, /, n, *, days=7):",
        "def run(ctx, n, days=DEFAULT_DAYS):",  # a named default cannot be compared without running the code
        "def run(ctx: object, n: int, days: int = 7) -> dict:",
    ],
)
def test_matching_signatures_pass(run):
    spec = spec_from_source("count_things", module(PARAMS_N_REQUIRED_DAYS_OPTIONAL, run))
    assert set(spec.parameters["properties"]) == {"n", "days"}


def test_optional_property_without_schema_default_may_default_to_none():
    params = '{"type": "object", "properties": {"prefix": {"type": "string"}}}'
    spec = spec_from_source("count_things", module(params, "def run(ctx, prefix=None):"))
    assert spec.parameters["properties"] == {"prefix": {"type": "string"}}


@pytest.mark.parametrize(
    "selftest",
    ["def selftest():", "def selftest(ctx, extra):", "def selftest(ctx=None):", "async def selftest(ctx):",
     "def selftest(*ctx):"],
)
def test_selftest_takes_exactly_ctx(selftest):
    source = module(OBJECT, "def run(ctx, n):", extra=f"\n\n{selftest}\n    pass\n")
    error = refusal(source)
    assert error.line == 10
    assert "selftest" in error.message


def test_syntax_errors_are_contract_errors_with_their_line():
    error = refusal(module(OBJECT, "def run(ctx, n):\n    x = (", extra=""))
    assert error.line >= 7
    assert error.message.startswith("syntax error")


def test_contract_error_text_names_the_line():
    error = ContractError("run is missing", 4)
    assert str(error) == "line 4: run is missing"
    assert isinstance(error, ValueError)


def test_annotated_parameters_assignment_is_accepted():
    source = textwrap.dedent(f'''\
        """Count things."""

        PARAMETERS: dict = {OBJECT}


        def run(ctx, n):
            return {{}}
        ''')
    assert spec_from_source("count_things", source).parameters["required"] == ["n"]
