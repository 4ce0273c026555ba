"""The toolsmith's source edits keep everything they don't touch."""

import pytest

from workers.code_edits import EditError, add_code, function_source, replace_definition, replace_exact

SOURCE = '''"""Doc."""

LINKS: dict = {"a": 1}


@decorated
def run(ctx, a):
    # keep this comment
    return {"summary": "x"}


def helper():
    pass
'''


def test_replace_definition_includes_decorators_and_keeps_the_rest():
    new = replace_definition(SOURCE, "run", "def run(ctx, a):\n    return {'summary': 'y'}")
    assert "@decorated" not in new and "'summary': 'y'" in new
    assert new.count("def helper") == 1 and 'LINKS: dict = {"a": 1}' in new


def test_add_code_inserts_after_a_named_definition_and_replaces_same_names():
    new = add_code(SOURCE, 'LINKS["b"] = 2\n\nLINKS: dict = {"a": 0}\n', "LINKS")
    assert new.index('LINKS: dict = {"a": 0}') < new.index('LINKS["b"] = 2') < new.index("def run")
    assert '{"a": 1}' not in new and "# keep this comment" in new


def test_add_code_appends_without_insertion_point():
    assert add_code(SOURCE, "def extra():\n    return 1\n").rstrip().endswith("return 1")


def test_add_code_refuses_unknown_insertion_point_and_bad_syntax():
    with pytest.raises(EditError, match="insertion_point"):
        add_code(SOURCE, "X = 1\n", "nowhere")
    with pytest.raises(EditError, match="does not parse"):
        add_code(SOURCE, "def (:\n")


def test_replace_exact_needs_one_unique_match():
    assert "return 2" in replace_exact(SOURCE, "pass", "return 2")
    with pytest.raises(EditError, match="not found"):
        replace_exact(SOURCE, "absent", "x")
    with pytest.raises(EditError, match="occurs 2 times"):
        replace_exact(SOURCE + "\n# pass\n", "pass", "x")


def test_function_source():
    assert function_source(SOURCE, "helper") == "def helper():\n    pass"
    with pytest.raises(EditError):
        function_source(SOURCE, "missing")
