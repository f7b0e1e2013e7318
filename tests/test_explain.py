"""``explain``: every diagnostics row recognised with the right captures, the sample logs, hostile input, the CLI."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from macwasm.errors import LIMIT, LogFormatError, MacwasmError, TableFormatError
from macwasm.limits import LOG_MAX_JSON_DEPTH, LOG_MAX_LINE_LENGTH, LOG_MAX_MATCHES_PER_LINE
from macwasm.policy.diagnostics import COLUMNS, load_diagnostics, parse_diagnostics
from macwasm.policy.explain import KIND_IPS, KIND_LOG, KIND_NOTARY, explain, explain_file
from macwasm.vocabulary import GRADES

#: the module itself (a package __init__ may re-export the function under the same name)
explain_module = importlib.import_module("macwasm.policy.explain")
TABLE = load_diagnostics()

#: the line the forum thread (https://developer.apple.com/forums/thread/805941) pasted, verbatim
FORUM_LINE = (
    "AMFI: When validating /Applications/xxxx.app/Contents/MacOS/xxx: Hardened Runtime relaxation entitlements "
    "disallowed on System Extensions mac_vnode_check_signature: /Applications/xxxx.app/Contents/MacOS/xxxx: code "
    "signature validation failed fatally: When validating /Applications/xxxx.app/Contents/MacOS/xxxx: Hardened "
    "Runtime relaxation entitlements disallowed on System Extensions ASP: Security policy would not allow "
    "process: 85453, /Applications/xxxx.app/Contents/MacOS/xxxx"
)
RELAXATION = "Hardened Runtime relaxation entitlements disallowed on System Extensions"

#: every error string of apple-facts.md section 6 and the notary-log table of section 4 (as quoted there)
REQUIRED_STRINGS = [
    "Hardened Runtime relaxation entitlements disallowed on System Extensions",
    "code signature validation failed fatally: When validating",
    "ASP: Security policy would not allow process:",
    "Code has restricted entitlements, but the validation of its code signature failed. Unsatisfied Entitlements:",
    ": Unsatisfied entitlements:",
    "because no eligible provisioning profiles found",
    'Error Domain=AppleMobileFileIntegrityError Code=-413 "No matching profile found"',
    "load code signature error",
    "EXC_CRASH (SIGKILL (Code Signature Invalid))",
    "Namespace CODESIGNING, Code 1, Taskgated Invalid Signature",
    "Namespace CODESIGNING, Code 0x1",
    "Backtrace not available",
    "Namespace CODESIGNING, Code 4, Launch Constraint Violation",
    "EXC_BAD_ACCESS (SIGKILL (Code Signature Invalid))",
    "Namespace CODESIGNING, Code 2, Invalid Page",
    "rejecting invalid page at address",
    "zsh: killed",
    "Library Validation failed: Rejecting",
    "not valid for use in process using Library Validation: mapped file has no Team ID and is not a platform "
    "binary (signed with custom identity or adhoc?)",
    "(relative path not allowed in hardened program)",
    "OSSystemExtensionErrorDomain Code=2",
    "OSSystemExtensionErrorDomain Code=8",
    "Ran out of executable memory while allocating",
    "Failed to reserve virtual memory for CodeRange",
    "OOP-JIT loader entitlement is an incorrect type",
    "Cannot be both OOP-JIT loader and runner simultaneously",
    "The binary is not signed.",
    "The binary is not signed with a valid Developer ID certificate.",
    "The signature of the binary is invalid.",
    "The signature does not include a secure timestamp.",
    "The executable does not have the hardened runtime enabled.",
    "The executable requests the com.apple.security.get-task-allow entitlement.",
    "The binary uses an SDK older than the 10.9 SDK.",
    "The signature algorithm used is too weak.",
    "Embedded entitlements are invalid: syntax error near line",
    "Archive contains critical validation errors",
]

#: values used to fill placeholders, by placeholder name; blank-free so a leading placeholder takes all of it
FILL = {
    "pid": "4242", "n": "128", "line": "1", "code": "7", "addr": "0x10a4c8000", "offset": "0x4000",
    "path": "/Applications/Wasm.app/Contents/MacOS/Wasm", "keys": "com.apple.developer.endpoint-security.client,"
    " com.apple.developer.networking.networkextension", "bundle_id": "com.example.wasm.extension",
}
PREFIX = "2025-11-03 10:14:02.118734+0100 0x2a11 Default 0x0 0 0 kernel: "


def _fill(pattern: str) -> tuple[str, dict[str, object]]:
    """A concrete line for a pattern and the captures explain must return for it."""
    expected: dict[str, object] = {}
    seen: dict[str, int] = {}

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        seen[name] = seen.get(name, 0) + 1
        group = name if seen[name] == 1 else f"{name}_{seen[name]}"
        text = FILL.get(name, f"value-of-{name}-{seen[name]}")
        if name == "keys":
            expected[group] = [k.strip() for k in text.split(",")]
        elif name in ("pid", "n", "line"):
            expected[group] = int(text)
        else:
            expected[group] = text
        return text

    return re.sub(r"<([a-z][a-z0-9_]*)>", value, pattern), expected


# --- the table -------------------------------------------------------------------------------------

def test_table_has_the_documented_columns_and_values(data_dir):
    header = (data_dir / "diagnostics.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == COLUMNS
    assert len(TABLE) >= 35
    for dx in TABLE:
        assert dx.grade in GRADES
        assert dx.reference.startswith("https://"), dx.id
        assert dx.source and dx.meaning and dx.fix, dx.id
        assert dx.rule_id is None or re.fullmatch(r"MW\d{3}", dx.rule_id), dx.id


@pytest.mark.parametrize("required", REQUIRED_STRINGS)
def test_every_apple_facts_error_string_has_a_row(required):
    filled = [_fill(dx.pattern)[0] for dx in TABLE]
    assert any(required in text for text in filled), required


@pytest.mark.parametrize("dx", list(TABLE), ids=lambda d: d.id)
def test_every_row_recognises_a_line_built_from_its_pattern(dx):
    line, expected = _fill(dx.pattern)
    report = explain(PREFIX + line + "\n")
    hits = [m for m in report.matches if m.id == dx.id]
    assert hits, f"{dx.id} not recognised in {line!r}; got {report.ids}"
    assert hits[0].captures == expected
    assert hits[0].line_no == 1 and report.recognised == 1 and report.unrecognised == 0
    assert (hits[0].meaning, hits[0].fix, hits[0].reference) == (dx.meaning, dx.fix, dx.reference)


def test_table_errors_name_the_row():
    head = ",".join(COLUMNS) + "\n"
    good = "DX001,ASP,ASP: x <pid>,m,f,https://e,s,apple,\n"
    assert len(parse_diagnostics(head + good)) == 1
    bad_rows = {
        "grade": good.replace("apple", "probably"),
        "touching placeholders": "DX001,ASP,a <pid><path>,m,f,https://e,s,apple,\n",
        "duplicate id": good + good,
        "no literal": "DX001,ASP,<path>,m,f,https://e,s,apple,\n",
        "where": good.replace(",ASP,", ",syslogd,"),
    }
    for what, rows in bad_rows.items():
        with pytest.raises(TableFormatError, match="row"):
            parse_diagnostics(head + rows, path="diagnostics.csv")
        assert what
    with pytest.raises(TableFormatError):
        parse_diagnostics("id,pattern\nDX001,x\n")


# --- real lines ------------------------------------------------------------------------------------

def test_forum_thread_line_yields_all_three_messages_with_captures():
    report = explain(FORUM_LINE)
    assert report.ids == ["DX101", "DX102", "DX103"]
    amfi, vnode, asp = report.matches
    assert amfi.captures == {"path": "/Applications/xxxx.app/Contents/MacOS/xxx"}
    assert vnode.captures == {
        "path": "/Applications/xxxx.app/Contents/MacOS/xxxx",
        "path_2": "/Applications/xxxx.app/Contents/MacOS/xxxx",
        "reason": RELAXATION,  # cut where the ASP message starts
    }
    assert asp.captures == {"pid": 85453, "path": "/Applications/xxxx.app/Contents/MacOS/xxxx"}
    assert {m.grade for m in report.matches} == {"apple"}
    assert (report.recognised, report.unrecognised, report.total_lines) == (1, 0, 1)


def test_messages_embedded_after_a_log_prefix():
    line = ("2025-11-03 10:14:02.118734+0100 0x2a11 Default 0x0 0 0 kernel: (AppleMobileFileIntegrity) "
            "AMFI: When validating /Applications/My App.app/Contents/MacOS/My App: " + RELAXATION)
    (match,) = explain(line).matches
    assert match.id == "DX101"
    assert match.captures == {"path": "/Applications/My App.app/Contents/MacOS/My App"}
    assert match.line == line


def test_the_specific_amfi_row_wins_over_the_generic_one():
    assert explain("AMFI: When validating /x: " + RELAXATION).ids == ["DX101"]
    generic = explain("AMFI: When validating /x: Something new in macOS 27")
    assert generic.ids == ["DX112"]
    assert generic.matches[0].captures == {"path": "/x", "reason": "Something new in macOS 27"}
    assert generic.matches[0].grade == "inferred"


def test_quinn_taskgated_example_and_keys_lists():
    report = explain("message: com.example.apple-samplecode.OverClaim: Unsatisfied entitlements: com.apple.overclaim")
    assert report.ids == ["DX105"]
    assert report.matches[0].captures == {"bundle_id": "com.example.apple-samplecode.OverClaim",
                                          "keys": ["com.apple.overclaim"]}


def test_a_line_matching_nothing_is_counted_not_dropped():
    report = explain("hello world\n\nAMFI: something else entirely\n")
    assert report.matches == []
    assert (report.recognised, report.unrecognised, report.blank_lines, report.total_lines) == (0, 2, 1, 3)
    assert report.unrecognised_samples == [(1, "hello world"), (3, "AMFI: something else entirely")]
    assert report.summary() == "0 recognised, 2 unrecognised of 3 lines (1 blank)"


def test_lines_iterable_and_bytes_give_the_same_report():
    lines = ["noise\n", FORUM_LINE + "\n"]
    from_lines = explain(lines)
    from_bytes = explain("".join(lines).encode())
    assert from_lines.to_dict() == from_bytes.to_dict()
    assert [m.line_no for m in from_lines.matches] == [2, 2, 2]


def test_crash_report_spacing_and_comma_variants():
    for text in ("Termination Reason:    Namespace CODESIGNING, Code 1 Taskgated Invalid Signature",
                 "Termination Reason: Namespace CODESIGNING, Code 1, Taskgated Invalid Signature"):
        assert explain(text).ids == ["DX302"]
    assert explain("Termination Reason: Namespace CODESIGNING, Code 9").ids == ["DX308"]
    assert explain("Exception Type:\tEXC_CRASH (SIGKILL (Code Signature Invalid))").ids == ["DX301"]


# --- the sample logs -------------------------------------------------------------------------------

SAMPLES = {
    "system-log-amfi.log": (KIND_LOG, ["DX101", "DX102", "DX103", "DX101", "DX102", "DX103", "DX105", "DX104",
                                       "DX108"]),
    "crash-codesigning.ips": (KIND_IPS, ["DX301", "DX302"]),
    "crash-codesigning.crash": (KIND_LOG, ["DX301", "DX302", "DX307"]),
    "crash-codesigning-legacy.crash": (KIND_LOG, ["DX301", "DX303", "DX307"]),
    "notarytool-log.json": (KIND_NOTARY, ["DX410", "DX401", "DX402", "DX404", "DX405", "DX406"]),
    "unrecognised.log": (KIND_LOG, []),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_logs_explained_with_expected_ids(data_dir, name):
    kind, ids = SAMPLES[name]
    path = data_dir / "samples" / "logs" / name
    report = explain_file(str(path))
    assert report.kind == kind
    assert report.ids == ids
    assert report.errors == []
    lines = path.read_text(encoding="utf-8").splitlines()
    for m in report.matches:  # the line number points at the line that holds the message (or its JSON key)
        assert 1 <= m.line_no <= len(lines)
    if kind == KIND_LOG:
        assert report.recognised + report.unrecognised + report.blank_lines == report.total_lines == len(lines)
        for m in report.matches:
            assert m.line == lines[m.line_no - 1].strip()


def test_sample_system_log_holds_the_forum_line_and_its_captures(data_dir):
    path = data_dir / "samples" / "logs" / "system-log-amfi.log"
    assert FORUM_LINE in path.read_text(encoding="utf-8").splitlines()
    report = explain_file(str(path))
    restricted = next(m for m in report.matches if m.id == "DX104")
    assert restricted.captures["keys"] == ["com.apple.developer.endpoint-security.client"]
    taskgated = next(m for m in report.matches if m.id == "DX105")
    assert taskgated.captures == {
        "bundle_id": "com.example.wasmfilter.extension",
        "keys": ["com.apple.developer.endpoint-security.client", "com.apple.developer.networking.networkextension"],
    }
    assert next(m for m in report.matches if m.id == "DX108").captures == {
        "pid": 90112, "code": "4", "name": "com.example.wasmfilter.extension"}


def test_notary_log_issues_carry_path_and_architecture(data_dir):
    path = data_dir / "samples" / "logs" / "notarytool-log.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    report = explain_file(str(path))
    issues = [m for m in report.matches if m.id != "DX410"]
    known = [i for i in doc["issues"] if i["docUrl"]]
    assert len(issues) == len(known) == 5
    for match, issue in zip(issues, known, strict=True):
        assert match.captures == {"path": issue["path"], "architecture": issue["architecture"],
                                  "severity": issue["severity"], "doc_url": issue["docUrl"]}
        assert match.line == issue["message"]
        assert issue["message"] in lines[match.line_no - 1]
    summary = report.matches[0]
    assert summary.id == "DX410" and summary.captures["status"] == "Invalid"
    assert (report.entries, report.recognised, report.unrecognised) == (7, 6, 1)
    assert "invents" in report.unrecognised_samples[0][1]
    assert report.summary() == "6 recognised, 1 unrecognised of 7 notary-log entries (61 lines)"


def test_ips_fields_become_captures(data_dir):
    path = data_dir / "samples" / "logs" / "crash-codesigning.ips"
    lines = path.read_text(encoding="utf-8").splitlines()
    report = explain_file(str(path))
    exc, term = report.matches
    assert '"exception"' in lines[exc.line_no - 1] and '"termination"' in lines[term.line_no - 1]
    assert exc.line == "Exception Type: EXC_CRASH (SIGKILL (Code Signature Invalid))"
    assert term.captures["indicator"] == "Taskgated Invalid Signature"
    assert term.captures["pid"] == 85453
    assert term.captures["path"] == "/Applications/xxxx.app/Contents/MacOS/xxxx"
    assert term.captures["bundle_id"] == "com.example.xxxx"


# --- hostile input ---------------------------------------------------------------------------------

HOSTILE_LINES = [
    "a" * 1_000_000,
    "AMFI: When validating " * 50_000,
    "mac_vnode_check_signature: " * 40_000,
    "'" * 1_000_000,
    ("x: Unsatisfied entitlements: " + "b" * 10) * 30_000,
    ("CODE SIGNING: process 1[" + "x" * 3000) * 300,
    "Library Validation failed: Rejecting '" * 30_000,
    " ".join(d.pattern for d in TABLE) * 200,
]


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=lambda s: f"{s[:20]!r}x{len(s)}")
def test_one_megabyte_lines_give_bounded_results(line):
    report = explain((line + "\nafter\n").encode())
    assert report.total_lines == 2
    assert report.long_lines == (1 if len(line) > LOG_MAX_LINE_LENGTH else 0)
    assert len([m for m in report.matches if m.line_no == 1]) <= LOG_MAX_MATCHES_PER_LINE
    assert report.unrecognised_samples == [] or len(report.unrecognised_samples[0][1]) <= 500
    assert report.unrecognised >= 1  # "after"


def test_many_messages_on_one_line_are_capped():
    report = explain(" ".join([FORUM_LINE] * 20))
    assert len(report.matches) == LOG_MAX_MATCHES_PER_LINE


def test_message_beyond_the_line_cap_is_not_read():
    report = explain("x" * LOG_MAX_LINE_LENGTH + " AMFI: When validating /x: " + RELAXATION)
    assert report.matches == [] and report.long_lines == 1


@pytest.mark.parametrize("deep", [
    '{"a":' * 10_000 + "1" + "}" * 10_000,
    '{"issues":' + "[" * 10_000 + "]" * 10_000 + "}",
    "[" * 10_000,
])
def test_deep_json_is_a_limit_error_then_read_line_by_line(deep):
    report = explain(deep + "\nASP: Security policy would not allow process: 1, /x\n")
    assert report.ids == ["DX103"]
    if deep.startswith("{"):
        (err,) = report.errors
        assert isinstance(err, LogFormatError) and err.category == LIMIT and err.offset == 0
        assert str(LOG_MAX_JSON_DEPTH) in err.reason


def test_invalid_utf8_is_replaced_not_an_error():
    data = b"\xff\xfe\xc3(garbage\nAMFI: When validating /Applications/\xe9\xff.app/x: " + RELAXATION.encode()
    report = explain(data)
    assert report.errors == []
    assert report.ids == ["DX101"]
    assert report.matches[0].captures["path"] == "/Applications/\ufffd\ufffd.app/x"
    assert report.unrecognised == 1


def test_truncated_notary_json_reports_offset_then_reads_lines(data_dir):
    raw = (data_dir / "samples" / "logs" / "notarytool-log.json").read_bytes()
    cut = raw[: raw.index(b"hardened runtime")]
    report = explain(cut, path="cut.json")
    (err,) = report.errors
    assert isinstance(err, LogFormatError) and err.path == "cut.json"
    assert err.offset is not None and 0 < err.offset <= len(cut)
    assert "line by line" in err.reason
    assert report.kind == KIND_LOG
    assert report.ids == ["DX410", "DX401", "DX402", "DX404"]


def test_ips_with_truncated_body_falls_back_to_lines(data_dir):
    raw = (data_dir / "samples" / "logs" / "crash-codesigning.ips").read_text(encoding="utf-8")
    report = explain(raw[: raw.index('"faultingThread"')])
    assert len(report.errors) == 1 and report.kind == KIND_LOG
    assert report.matches == []  # the JSON lines do not hold the rendered text


def test_json_over_the_json_cap_is_noted_and_read_line_by_line(monkeypatch):
    monkeypatch.setattr(explain_module, "LOG_MAX_JSON_SIZE", 50)
    report = explain('{"statusSummary": "Archive contains critical validation errors", "issues": null}')
    assert report.kind == KIND_LOG and report.ids == ["DX410"]
    assert report.errors[0].category == LIMIT and report.errors[0].offset == 50


def test_size_and_line_caps_raise_limit_errors(monkeypatch):
    monkeypatch.setattr(explain_module, "LOG_MAX_SIZE", 100)
    with pytest.raises(LogFormatError) as info:
        explain("x" * 101, path="big.log")
    assert info.value.category == LIMIT and info.value.path == "big.log"
    with pytest.raises(LogFormatError):
        explain(["x" * 60, "y" * 60])
    monkeypatch.setattr(explain_module, "LOG_MAX_SIZE", 10**6)
    monkeypatch.setattr(explain_module, "LOG_MAX_LINES", 3)
    assert explain("a\nb\nc\n").total_lines == 3
    with pytest.raises(LogFormatError) as info:
        explain("a\nb\nc\nd\n")
    assert info.value.category == LIMIT and info.value.offset == 6


FRAGMENTS = st.sampled_from([p for d in TABLE for p in re.split(r"<[a-z_0-9]+>", d.pattern) if p] +
                            ["{", "}", "[", "]", '"', "\n", "\\", '"issues":', '"exception":{', "\xff", "'"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=40), st.binary(max_size=40))
def test_arbitrary_input_gives_a_report_or_a_log_error(parts, junk):
    data = "".join(parts).encode("utf-8", "surrogatepass") + junk
    try:
        report = explain(data)
    except LogFormatError:
        return
    assert report.recognised + report.unrecognised <= max(report.total_lines, report.entries or 0)
    json.dumps(report.to_dict())


# --- the CLI ---------------------------------------------------------------------------------------

def test_cli_json_for_the_notary_sample(cli, data_dir):
    proc = cli("explain", str(data_dir / "samples" / "logs" / "notarytool-log.json"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["kind"] == KIND_NOTARY
    assert [m["id"] for m in doc["matches"]] == SAMPLES["notarytool-log.json"][1]
    assert doc["summary"]["recognised"] == 6 and doc["summary"]["unrecognised"] == 1
    first = doc["matches"][1]
    assert set(first) >= {"line_no", "id", "where", "meaning", "fix", "reference", "captures", "grade"}
    assert first["captures"]["architecture"] == "arm64"


def test_cli_table_from_stdin(cli):
    for args in (("explain",), ("explain", "-")):
        proc = cli(*args, input_bytes=(FORUM_LINE + "\nnoise\n").encode())
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
        for ident in ("DX101", "DX102", "DX103"):
            assert f"line 1  {ident}" in out
        assert "reference: https://developer.apple.com/forums/thread/805941" in out
        assert "1 recognised, 1 unrecognised of 2 lines" in out


def test_cli_exit_codes(cli, data_dir, tmp_path):
    nothing = cli("explain", str(data_dir / "samples" / "logs" / "unrecognised.log"))
    assert nothing.returncode == 0 and "0 recognised, 4 unrecognised of 4 lines" in nothing.stdout
    missing = cli("explain", str(tmp_path / "missing.log"))
    assert missing.returncode == 2 and "missing.log" in missing.stderr
    assert cli("explain", "--format", "xml").returncode == 2
    assert cli("explain", str(tmp_path)).returncode == 2  # a directory is not a log
    cut = tmp_path / "cut.json"
    raw = (data_dir / "samples" / "logs" / "notarytool-log.json").read_bytes()
    cut.write_bytes(raw[:300])
    warned = cli("explain", str(cut), "--format", "json")
    assert warned.returncode == 0 and "warning" in warned.stderr and "offset 0x" in warned.stderr
    assert json.loads(warned.stdout)["errors"][0]["offset"] > 0


def test_errors_are_macwasm_errors():
    assert issubclass(LogFormatError, MacwasmError)
