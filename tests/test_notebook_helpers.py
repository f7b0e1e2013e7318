"""The helpers notebooks share (``macwasm.notebook``): paths shown without machine details."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from macwasm import memtrace
from macwasm.notebook import REPO_ROOT, VERDICT_TABLE_CLASS, link_label, rel, repo_path, table, text_table


def test_rel_shows_repository_paths_relative_to_the_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert rel(repo_path("data", "modules", "mvp.wasm")) == "data/modules/mvp.wasm"
    assert rel("../data/bundles/ForumCase.app") == "data/bundles/ForumCase.app"


def test_rel_keeps_other_relative_paths_as_given(monkeypatch):
    """A path inside a bundle is relative to the bundle, not to the notebook's folder."""
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert rel("Contents/MacOS/plugin.wasm") == "Contents/MacOS/plugin.wasm"


def test_rel_leaves_paths_outside_the_repository_alone(tmp_path):
    assert rel(tmp_path / "x.wasm") == (tmp_path / "x.wasm").as_posix()


# --- tables: left-aligned, wrapped, never cut; links clickable in HTML, whole in text ---------------

def test_text_table_is_left_aligned_and_wraps_long_cells_without_cutting():
    pd = pytest.importorskip("pandas")
    cause = ("the binary holds system-extension entitlements and com.apple.security.cs.allow-unsigned-"
             "executable-memory, which AMFI refuses at launch")
    text = text_table(pd.DataFrame([{"rule": "MW101", "message": cause}, {"rule": "MW1", "message": "short"}]),
                      max_width=40)
    lines = text.splitlines()
    assert lines[0].startswith("rule   message")  # headers left-aligned over their column
    assert lines[2].startswith("MW101  ") and lines[-1].startswith("MW1    short")  # values left-aligned too
    assert all(len(line) <= len("MW101  ") + 40 for line in lines)
    assert "..." not in text
    wrapped = " ".join(line[len("MW101  "):] for line in lines[2:-1])
    assert "".join(wrapped.split()) == "".join(cause.split())  # every character there, in order: wrapped, not cut
    assert "com.apple.security.cs.allow-unsigned-" in text  # a long key breaks after its punctuation


def test_link_labels_name_the_source_briefly():
    assert link_label("https://github.com/bytecodealliance/wasmtime/blob/e6b33de513/crates/x/mmap.rs#L46-L53") \
        == "wasmtime/mmap.rs:46"
    assert link_label("https://developer.apple.com/forums/thread/805941") == "forum 805941"
    apple = "https://developer.apple.com/documentation/security/hardened-runtime"
    assert link_label(apple) == "Apple: hardened-runtime"
    assert link_label("https://github.com/wazero/wazero/pull/2471") == "wazero #2471"
    assert link_label("") == ""


def test_tables_link_evidence_in_html_and_keep_the_url_in_text():
    pd = pytest.importorskip("pandas")
    url = "https://developer.apple.com/forums/thread/690067"
    styled = table(pd.DataFrame([{"fact": "XPC services are launched by their app", "verdict": "pass",
                                  "evidence": url}]))
    html_out = styled.to_html()
    assert f'<a href="{url}" target="_blank">forum 690067</a>' in html_out
    assert "text-align: left" in html_out and VERDICT_TABLE_CLASS in html_out
    assert url in repr(styled) and "0x" not in repr(styled)


def test_table_ids_are_stable_across_runs_and_differ_between_tables():
    pd = pytest.importorskip("pandas")
    one = table(pd.DataFrame([{"a": "x"}])).to_html()
    assert one == table(pd.DataFrame([{"a": "x"}])).to_html()
    assert one != table(pd.DataFrame([{"a": "y"}])).to_html()


# --- memtrace: strace logs summarised into counts, never addresses ---------------------------------

LOG = """\
100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
100 mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000100000
100 mmap(0x7f0000200000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f0000200000
100 openat(AT_FDCWD, "/macwasm-trace/begin", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
100 mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000300000
100 mprotect(0x7f0000300000, 4096, PROT_READ|PROT_EXEC) = 0
101 mprotect(0x7f0000000000, 4096, PROT_READ|PROT_WRITE|PROT_EXEC <unfinished ...>
100 mprotect(0x7f0000900000, 4096, PROT_READ|PROT_EXEC) = 0
101 <... mprotect resumed>) = 0
100 mprotect(0x7f0000310000, 4096, PROT_READ|PROT_EXEC) = -1 EACCES (Permission denied)
100 openat(AT_FDCWD, "/macwasm-trace/end", O_RDONLY|O_CLOEXEC <unfinished ...>
101 mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000400000
100 <... openat resumed>) = -1 ENOENT (No such file or directory)
100 mprotect(0x7f0000300000, 4096, PROT_READ|PROT_EXEC) = 0
"""


def test_summary_counts_anonymous_memory_made_executable_between_the_marks_only():
    s = memtrace.summarise(memtrace.parse_calls(LOG.splitlines()))
    assert s.marked
    # inside: RW map then RX (counted), an interrupted RWX mprotect of memory mapped before begin (counted),
    # an mprotect of memory never mapped anonymously (not counted), a failed call (not counted), and the
    # RWX map that another thread made before the end mark resumed (counted: the end came later)
    assert (s.made_executable, s.write_and_execute, s.anonymous_maps) == (3, 2, 2)
    assert s.executable_anonymous_memory == "yes" and s.calls_bucket == "1-9"


def test_an_interpreter_log_says_no_and_a_log_without_marks_is_not_complete():
    quiet = "\n".join(line for line in LOG.splitlines() if "PROT_EXEC" not in line or "DENYWRITE" in line)
    s = memtrace.summarise(memtrace.parse_calls(quiet.splitlines()))
    assert s.marked and s.made_executable == 0 and s.executable_anonymous_memory == "no" and s.calls_bucket == "none"
    unmarked = memtrace.summarise(memtrace.parse_calls(LOG.splitlines()[:3]))
    assert not unmarked.marked and unmarked.made_executable == 0  # nothing before the begin mark counts


def test_buckets_are_coarse():
    assert [memtrace.bucket(n) for n in (0, 1, 9, 10, 99, 100, 5000)] == \
        ["none", "1-9", "1-9", "10-99", "10-99", "100 or more", "100 or more"]


def test_garbage_lines_are_skipped_not_fatal():
    calls = list(memtrace.parse_calls(["", "+++ exited with 0 +++", "100 <... mmap resumed>) = 0x1",
                                       "mmap(", "\x00\xff", "100 --- SIGCHLD {si_signo=SIGCHLD} ---"]))
    assert calls == []


def test_a_missing_program_is_a_reason_not_an_exception():
    run = memtrace.trace("nothing", ["macwasm-no-such-program-xyz"])
    assert not run.traced and run.summary is None
    assert run.reason in ("macwasm-no-such-program-xyz is not installed",) or run.reason.startswith(
        ("not Linux", "strace is not installed"))


def _can_trace() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("strace") is None:
        return False
    done = subprocess.run(["strace", "-qq", "-e", "trace=none", "-o", os.devnull, "true"], capture_output=True,
                          check=False)
    return done.returncode == 0


@pytest.mark.skipif(not _can_trace(), reason="needs Linux with strace allowed to ptrace")
def test_a_real_trace_tells_the_wasmtime_jit_from_its_pulley_interpreter():
    pytest.importorskip("wasmtime")
    runner = str(REPO_ROOT / "notebooks" / "runners" / "run_module.py")
    module = str(REPO_ROOT / "data" / "modules" / "mvp.wasm")
    jit = memtrace.trace("wasmtime", [sys.executable, runner, "wasmtime", module, "add", "2", "3"])
    pulley = memtrace.trace("pulley", [sys.executable, runner, "wasmtime-pulley", module, "add", "2", "3"])
    assert jit.traced and pulley.traced, (jit.reason, pulley.reason)
    assert jit.output == pulley.output == "5"
    assert jit.summary.executable_anonymous_memory == "yes"
    assert pulley.summary.executable_anonymous_memory == "no"


def test_short_keys_keep_what_names_the_key():
    from macwasm.notebook import short_key

    assert short_key("com.apple.developer.endpoint-security.client") == "endpoint-security.client"
    assert short_key("com.apple.security.cs.allow-jit") == "allow-jit"
    assert short_key("com.apple.security.app-sandbox") == "app-sandbox"
    assert short_key("keychain-access-groups") == "keychain-access-groups"


def test_setup_makes_every_displayed_frame_a_left_aligned_table():
    pd = pytest.importorskip("pandas")
    shell_mod = pytest.importorskip("IPython.core.interactiveshell")
    shell = shell_mod.InteractiveShell.instance()
    try:
        from macwasm.notebook import setup

        setup()
        frame = pd.DataFrame({"key": ["com.apple.security.cs.allow-jit", "x"], "held": [True, False]})
        data, _ = shell.display_formatter.format(frame)
        assert data["text/plain"].splitlines()[0].startswith("key ")
        assert data["text/plain"].splitlines()[2].startswith("com.apple.security.cs.allow-jit  True")
        assert VERDICT_TABLE_CLASS in data["text/html"] and "text-align: left" in data["text/html"]
        counted = pd.crosstab(pd.Series(["a", "b"], name="category"), pd.Series(["y", "n"], name="restricted"))
        text, _ = shell.display_formatter.format(counted)
        assert text["text/plain"].startswith("category")  # a meaningful index is kept as a column
    finally:
        shell_mod.InteractiveShell.clear_instance()


# --- the policy views notebooks share: each shows what the engine said, nothing of its own ----------

FORUM_FILE = REPO_ROOT / "tests" / "fixtures" / "plists" / "forum-thread-sysext.entitlements"
COMPONENT = REPO_ROOT / "data" / "modules" / "component-wasi-p2.wasm"


def _forum_plan():
    from macwasm import policy
    from macwasm.signing.plist import read_entitlements_file

    forum, _ = read_entitlements_file(FORUM_FILE)
    return policy.advise(entitlements=forum, product_type="endpoint-security-extension", module_source="downloaded",
                         module=str(COMPONENT))


def test_findings_and_checks_tables_show_the_engine_s_findings_with_their_grade():
    pytest.importorskip("pandas")
    from macwasm import policy
    from macwasm.notebook import checks_table, findings_table

    (result,) = policy.check([str(FORUM_FILE)], product_type="app", runtime="wasmtime")
    shown = findings_table(result, info=False, subject=True).data
    assert list(shown["rule"]) == [f.rule_id for f in result.findings if f.severity != "info"] == ["MW101", "MW114"]
    assert set(shown["grade"]) <= {"code", "apple", "observed", "inferred", "unconfirmed"}
    assert (shown["file"] == "tests/fixtures/plists/forum-thread-sysext.entitlements").all()
    cases = checks_table([{"case": "two engines, one key", "runtime": ["electron", "wasmtime"],
                           "entitlements": ["com.apple.security.cs.allow-jit"]}]).data
    assert cases.at[0, "runtime"] == "electron, wasmtime" and cases.at[0, "verdict"] == "fail"
    assert cases.at[0, "errors and warnings"].startswith("MW111 ")


def test_results_table_groups_an_xcode_project_by_target_and_configuration():
    pytest.importorskip("pandas")
    from macwasm import policy
    from macwasm.notebook import results_table

    project = REPO_ROOT / "tests" / "fixtures" / "xcode" / "ForumCase" / "ForumCase.xcodeproj"
    shown = results_table(policy.check(str(project)), group=True).data
    assert set(shown["configuration"]) == {"Debug", "Release"} and (shown["verdict"] == "fail").all()
    assert set(shown["file"]) == {"tests/fixtures/xcode/ForumCase/App/App.entitlements",
                                  "tests/fixtures/xcode/ForumCase/Extension/Extension.entitlements"}


def test_plan_views_follow_the_plan():
    pytest.importorskip("pandas")
    from macwasm.notebook import binaries_table, modules_table, plan_summary, plan_table

    plan = _forum_plan()
    options = plan_table(plan, runtime="wasmtime").data
    assert options.at[0, "option"] == "recommended" and options.at[0, "rank"] == plan.recommended.rank == 1
    assert "your runtime" in set(options["option"]) and set(options["runtime"]) >= {"wasmtime"}
    binaries = binaries_table(plan.recommended).data
    assert list(binaries["binary"]) == [b.role for b in plan.recommended.binaries]
    assert "-endpoint-security.client" in binaries.set_index("binary").at["container app", "changes"]
    side_by_side = modules_table({"a": plan, "b": plan}).data.set_index("question")
    assert side_by_side.at["where", "a"] == plan.modules["where"] and "~" in side_by_side.at["where", "b"]
    assert plan.ranking in repr(plan_summary(plan))


def test_written_table_reads_the_files_back(tmp_path):
    pytest.importorskip("pandas")
    from macwasm.notebook import written_table
    from macwasm.policy.fixes import write_plan

    plan = _forum_plan()
    shown = written_table(write_plan(plan, tmp_path), tmp_path).data.set_index("file")
    assert set(shown.index) == {"Extension.entitlements", "ContainerApp.entitlements"}  # names, never the folder
    assert "com.apple.developer.endpoint-security.client" in shown.at["Extension.entitlements", "entitlements"]
    assert "endpoint-security" not in shown.at["ContainerApp.entitlements", "entitlements"]


def test_sarif_table_shows_each_annotation_once_with_its_cause():
    pytest.importorskip("pandas")
    from macwasm import policy
    from macwasm.notebook import sarif_table
    from macwasm.report.sarif import to_sarif

    project = REPO_ROOT / "tests" / "fixtures" / "xcode" / "ForumCase" / "ForumCase.xcodeproj"
    shown = sarif_table(to_sarif(policy.check(str(project)), root=str(REPO_ROOT)), levels=("error",),
                        target=False).data
    assert len(shown) == 4  # two files x (MW101, MW114): Debug and Release say the same
    assert "target" not in shown.columns and (shown["line"] != "-").all()
    assert not shown["message"].str.contains("Fix: ").any()
    assert shown["message"].str.startswith(("The binary", "wasmtime uses")).all()
