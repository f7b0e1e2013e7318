"""The rule and runtime pages as documents: what they say, in markdown and in the terminal.

``macwasm rule ID`` and ``macwasm runtime NAME`` print the same document the site shows; these tests
check the content against the tables and the engine (an example's findings are the engine's), the
two writers (markdown that Python-Markdown renders literally, text wrapped to the terminal), the
commands' exit codes, and that SARIF and ``check`` link to the pages at the one docs address.
"""

from __future__ import annotations

import json
import re
import tomllib
from html.parser import HTMLParser

import pytest

from macwasm import DOCS_URL, PROJECT_URL
from macwasm.policy.engine import evaluate
from macwasm.policy.examples import rule_examples
from macwasm.policy.tables import PRODUCT_TYPES, rules, runtimes
from macwasm.report.doc import Bullets, Code, Doc, Item, Link, Para, Table, md_escape, to_markdown, to_text
from macwasm.report.links import page_path, rule_source, rule_url, runtime_source, runtime_url
from macwasm.report.rule_doc import example_results, rule_doc, rule_record
from macwasm.report.runtime_doc import product_type_results, required_keys, runtime_doc, runtime_record

ES = "com.apple.developer.endpoint-security.client"
JIT = "com.apple.security.cs.allow-jit"
UNS = "com.apple.security.cs.allow-unsigned-executable-memory"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def rendered_text(markdown_text: str) -> str:
    """What a reader sees of the markdown (Python-Markdown, as MkDocs renders it), whitespace folded."""
    import markdown

    parser = _Text()
    parser.feed(markdown.markdown(markdown_text, extensions=["tables"]))
    return " ".join("".join(parser.parts).split())


# ---------------------------------------------------------------------------------------------- the rules

def test_every_rule_says_why_it_matters_apart_from_what_it_checks() -> None:
    for rule in rules().values():
        assert len(rule.why.split()) >= 12, (rule.id, rule.why)
        assert rule.why != rule.checks, rule.id


@pytest.mark.parametrize("rule_id", sorted(rules()))
def test_rule_page_shows_the_engines_findings_for_its_examples(rule_id: str) -> None:
    rule = rules()[rule_id]
    page = rendered_text(to_markdown(rule_doc(rule_id)))
    for part in (rule.title, " ".join(rule.why.split()), "Example that fires", "Example that stays quiet"):
        assert part in page, (rule_id, part)
    fires = evaluate(rule_examples()[rule_id]["fires"].target)
    own = [f for f in fires.findings if f.rule_id == rule_id]
    assert own, rule_id
    for finding in own:  # the message the engine gives now, whole, on the page
        assert " ".join(finding.message.split()) in page, rule_id
    assert f"No {rule_id} finding." in page


def test_rule_page_shows_the_example_entitlements_as_a_plist() -> None:
    md = to_markdown(rule_doc("MW101"))
    assert f"<key>{ES}</key>" in md and f"<key>{UNS}</key>" in md and f"<key>{JIT}</key>" in md
    assert "```xml" in md


def test_rule_page_names_the_log_message_and_links_references_and_grade() -> None:
    md = to_markdown(rule_doc("MW101"))
    assert "Hardened Runtime relaxation entitlements disallowed on System Extensions" in md and "DX101" in md
    assert "(https://developer.apple.com/forums/thread/757540)" in md  # from the rule's source column
    assert "[apple](../evidence.md#apple)" in md
    # a source item in repository form becomes a link to that line
    assert "https://github.com/apple-oss-distributions/libpthread/blob/42d026d/include/pthread/pthread.h#L586-L588" \
        in to_markdown(rule_doc("MW102"))


def test_an_example_that_no_longer_shows_its_case_is_flagged(data_copy) -> None:
    path = data_copy / "rule_examples.csv"
    lines = path.read_text().splitlines(keepends=True)
    quiet = next(i for i, line in enumerate(lines) if line.startswith("MW120,quiet,"))
    fires = next(i for i, line in enumerate(lines) if line.startswith("MW120,fires,"))
    lines[quiet] = lines[fires].replace("MW120,fires,", "MW120,quiet,")  # a quiet example that fires
    path.write_text("".join(lines))
    (_, quiet_result) = example_results("MW120")
    assert not quiet_result.holds
    assert "does not show what it should" in to_text(rule_doc("MW120"), 100)
    assert rule_record("MW120")["examples"][1]["holds"] is False


# ---------------------------------------------------------------------------------------------- the runtimes

@pytest.mark.parametrize("name", sorted(runtimes()))
def test_runtime_page_gives_every_fact_with_its_grade_and_evidence(name: str) -> None:
    rt = runtimes()[name]
    md = to_markdown(runtime_doc(name))
    assert md.count("](") >= 2  # evidence links
    for arch in ("arm64", "x86_64"):
        strategy = rt.fact("strategy", arch)
        assert strategy is not None
        assert f"| {arch.replace('_', chr(92) + '_')} | `{strategy.value}` |" in md, (name, arch)
    for caveat in rt.caveats:
        assert md_escape(caveat.text) in md
    assert md.count("\n| ") - 2 >= len(PRODUCT_TYPES)  # one row per product type at least


def test_entitlements_per_product_type_are_the_runtimes_keys_checked() -> None:
    assert required_keys("wasm3", "app") == ()
    assert required_keys("wasmtime", "app") == (UNS,)
    assert required_keys("wamr-aot", "app") == (JIT, UNS)  # MAP_JIT on arm64, RWX on x86_64
    verdicts = {(p, r.verdict, tuple(sorted({f.rule_id for f in r.findings if f.severity == "error"})))
                for p, _, r in product_type_results("wasmtime")}
    assert ("app", "pass", ()) in verdicts
    assert ("endpoint-security-extension", "fail", ("MW101", "MW114")) in verdicts
    electron = {p: r for p, _, r in product_type_results("electron")}
    assert electron["network-extension"].verdict == "pass"  # allow-jit alone, MAP_JIT on both arches
    assert "MW102" in electron["driverkit-driver"].rule_ids


def test_runtime_evidence_of_another_row_links_that_runtimes_page() -> None:
    md = to_markdown(runtime_doc("electron"))
    assert "[as for v8](v8.md)" in md


def test_runtime_record_is_json_with_the_same_verdicts() -> None:
    record = json.loads(json.dumps(runtime_record("wasmtime")))
    by_type = {row["product_type"]: row for row in record["product_types"]}
    assert by_type["network-extension"]["verdict"] == "fail"
    assert by_type["app"]["entitlements"] == [UNS]
    assert {f["fact"] for f in record["facts"]} >= {"strategy", "component_model", "threads"}


# ---------------------------------------------------------------------------------------------- the writers

def test_markdown_shows_table_text_literally() -> None:
    tricky = "relaxes_hardened_runtime=yes *not* <b>bold</b> [x](y) a|b `q` & more"
    doc = Doc("T").add(Para((tricky,)), Table(("a", "b"), (((tricky,), (Code("k|v"),)),)))
    text = rendered_text(to_markdown(doc))
    assert text.count(tricky) == 2, text
    assert "k|v" in text


def test_text_wraps_to_the_terminal_and_keeps_words_whole() -> None:
    for name in ("MW101", "MW114", "MW180"):
        for width in (60, 80, 120):
            text = to_text(rule_doc(name), width)
            long_lines = [line for line in text.splitlines()
                          if len(line) > width and not line.lstrip().startswith("<")]  # a plist stays as is
            assert not long_lines, (name, width, long_lines[:2])
            words = " ".join(text.split())
            assert " ".join(rules()[name].why.split()) in words  # wrapped, not cut


def test_a_table_too_wide_for_the_terminal_becomes_records() -> None:
    table = Table(("name", "value", "evidence"), (((("wasmtime",)), ("unsigned-memory",),
                                                    (Link("src", "https://example.org/" + "x" * 90),)),))
    narrow = to_text(Doc("T").add(table), 44)  # 14 columns left for the last one: too few
    assert narrow.splitlines()[3] == "  - wasmtime: value: unsigned-memory;" and "    evidence: src" in narrow
    last_wrapped = to_text(Doc("T").add(table), 70)  # the first two aligned, the link wrapped beside them
    assert re.search(r"^  wasmtime  unsigned-memory  src <https://example", last_wrapped, re.MULTILINE)
    assert all(len(line) <= 70 for line in last_wrapped.splitlines())
    wide = to_text(Doc("T").add(Table(("a", "b"), ((("1",), ("two",)),))), 60)
    assert re.search(r"^  a  b$", wide, re.MULTILINE) and re.search(r"^  1  two$", wide, re.MULTILINE)


def test_links_to_pages_show_as_their_text_in_the_terminal() -> None:
    doc = Doc("T").add(Bullets((Item((Link("MW101", "../rules/MW101.md"), " and ",
                                      Link("Apple", "https://developer.apple.com/x")), lead="see:"),)))
    text = to_text(doc, 100)
    assert "see: MW101 and Apple <https://developer.apple.com/x>" in text and ".md" not in text
    assert "[MW101](../rules/MW101.md)" in to_markdown(doc)


# ---------------------------------------------------------------------------------------------- the commands

def test_rule_command_prints_the_page_as_text(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    proc = cli("rule", "mw101")
    assert proc.returncode == 0 and not proc.stderr
    assert proc.stdout == to_text(rule_doc("MW101"), 90)
    assert "Why it matters" in proc.stdout and "Example that stays quiet" in proc.stdout
    md = cli("rule", "MW101", "--format", "markdown")
    assert md.returncode == 0 and md.stdout == to_markdown(rule_doc("MW101"))


def test_runtime_command_prints_the_page_as_text(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    proc = cli("runtime", "wasmtime")
    assert proc.returncode == 0 and not proc.stderr
    assert proc.stdout == to_text(runtime_doc("wasmtime"), 100)
    assert "Entitlements needed per product type" in proc.stdout and UNS in proc.stdout


def test_without_an_id_the_commands_list_everything(cli) -> None:
    listed = cli("rule")
    assert listed.returncode == 0
    assert all(rule_id in listed.stdout for rule_id in rules())
    names = json.loads(cli("runtime", "--format", "json").stdout)
    assert names["runtimes"] == list(runtimes()) and names["schema_version"] == 1
    assert cli("rule", "-q").stdout.splitlines() == list(rules())
    assert all(name in cli("runtime").stdout for name in runtimes())


@pytest.mark.parametrize(("command", "name"), [("rule", "MW999"), ("rule", "allow-jit"), ("runtime", "wasmtim")])
def test_an_unknown_id_is_one_clear_error_and_exit_2(cli, command: str, name: str) -> None:
    proc = cli(command, name)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"macwasm {command}: no {command} {name!r}")


def test_rule_json_has_the_examples_results(cli) -> None:
    record = json.loads(cli("rule", "MW110", "--format", "json").stdout)
    assert record["id"] == "MW110" and record["why"] == rules()["MW110"].why
    assert [e["case"] for e in record["examples"]] == ["fires", "quiet"] and all(e["holds"] for e in record["examples"])
    assert "MW110" in {f["rule_id"] for f in record["examples"][0]["findings"]}


# ---------------------------------------------------------------------------------------------- the links

def test_docs_and_project_urls_are_the_ones_pyproject_names(repo) -> None:
    urls = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Homepage"] == PROJECT_URL and urls["Documentation"] == DOCS_URL
    assert DOCS_URL.endswith("/")
    assert rule_url("MW101") == DOCS_URL + "rules/MW101.html" == DOCS_URL + page_path(rule_source("MW101"))
    assert runtime_url("wasmtime") == DOCS_URL + page_path(runtime_source("wasmtime"))


def test_check_points_each_finding_at_its_rules_page(cli) -> None:
    proc = cli("check", "--entitlement", ES, "--entitlement", UNS, "--runtime", "wasmtime")
    assert proc.returncode == 1
    assert f"see: {rule_url('MW101')}" in proc.stdout and f"see: {rule_url('MW114')}" in proc.stdout


def test_check_keeps_a_findings_own_evidence_link(cli) -> None:
    # MW116 links the caveat's own evidence, which the rule's page cannot know
    proc = cli("check", "--entitlement", UNS, "--runtime", "wasmtime-winch", "--arch", "arm64")
    assert f"see: {rule_url('MW116')}" in proc.stdout
    assert "ref: https://github.com/bytecodealliance/wasmtime/blob/" in proc.stdout


@pytest.fixture
def data_copy(tmp_path, data_dir, monkeypatch: pytest.MonkeyPatch):
    import shutil

    for table in data_dir.glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    return tmp_path
