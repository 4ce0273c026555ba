"""Attacks that write outside the output folder, or plant links the worker might follow."""

from __future__ import annotations

from pathlib import Path


def test_writes_outside_the_output_folder_fail(attack, planted):
    run = attack('''
        import os

        def run(ctx, paths, endpoint):
            out = str(ctx.output_path("x.json"))
            targets = [os.path.join(os.path.dirname(out), "..", "escaped.txt"), "../escaped.txt",
                       os.path.join(paths["root"], "worker", "escaped.txt"), paths["env_file"],
                       "/opt/auditbot/lib/workers/broker.py", "/usr/lib/escaped.txt", "/escaped.txt"]
            written = []
            for target in targets:
                try:
                    with open(target, "a") as file:
                        file.write("pwned")
                    written.append(target)
                except OSError:
                    pass
            return {"got": [t for t in written if not t.startswith("../")]}
    ''')

    assert run.ok, run.error
    assert run.value == {"got": []}
    assert not (planted.root / "worker" / "escaped.txt").exists()
    assert "pwned" not in planted.env_file.read_text()
    assert not Path("/escaped.txt").exists() and not Path("/usr/lib/escaped.txt").exists()


def test_links_named_like_evidence_are_not_followed(attack, planted):
    run = attack('''
        import os

        def run(ctx, paths, endpoint):
            made = []
            for name, target in (("report.json", paths["env_file"]), ("shadow.txt", "/etc/shadow"),
                                 ("tool.py", paths["other_tool"])):
                try:
                    os.symlink(target, ctx.output_path(name))
                    made.append("symlink " + name)
                except OSError:
                    pass
            for name, target in (("hard.json", paths["env_file"]), ("passwd.txt", "/etc/passwd")):
                try:
                    os.link(target, ctx.output_path(name))
                    made.append("hardlink " + name)
                except OSError:
                    pass
            return {"made": made}
    ''')

    assert run.ok, run.error
    assert run.files == []
    assert all(line.startswith("not kept as evidence: ") for line in run.progress)
