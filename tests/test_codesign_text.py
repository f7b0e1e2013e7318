"""``codesign -d --entitlements -`` transcripts in both forms, and telling input kinds apart."""

from __future__ import annotations

import plistlib
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macwasm.errors import LIMIT, PlistFormatError
from macwasm.signing.codesign_text import detect_source, parse_codesign_output
from macwasm.signing.plist import read_entitlements_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLISTS = FIXTURES / "plists"
FORUM = read_entitlements_file(PLISTS / "forum-thread-sysext.entitlements")[0]


def fail(text: str | bytes) -> PlistFormatError:
    with pytest.raises(PlistFormatError) as info:
        parse_codesign_output(text, path="paste.txt")
    assert info.value.path == "paste.txt"
    return info.value


# -------------------------------------------------------------------------------- XML form


def test_xml_form_with_codesign_lines_before_it():
    ents = parse_codesign_output((PLISTS / "codesign-xml-with-executable.txt").read_bytes())
    assert ents == FORUM
    assert ents["com.apple.security.application-groups"] == ["$(TeamIdentifierPrefix)xxxxxx"]


def test_xml_form_without_executable_line_and_with_trailing_lines():
    xml = (PLISTS / "forum-thread-sysext.entitlements").read_text()
    assert parse_codesign_output(xml) == FORUM
    assert parse_codesign_output(xml + "Authority=Developer ID Application: Example (ABCDE12345)\n") == FORUM


def test_old_codesign_printed_the_blob_header_before_the_xml():
    xml = plistlib.dumps({"com.apple.security.cs.allow-jit": True})
    header = b"\xfa\xde\x71\x71" + struct.pack(">I", len(xml) + 8)
    assert parse_codesign_output(b"Executable=/x\n" + header + xml) == {"com.apple.security.cs.allow-jit": True}
    assert parse_codesign_output(header + xml) == {"com.apple.security.cs.allow-jit": True}


def test_xml_errors_carry_offsets_in_the_whole_paste():
    text = "Executable=/x\n" + plistlib.dumps({"a": True}).decode().replace("<true/>", "<true>")
    err = fail(text)
    assert err.offset is not None
    assert text.encode()[err.offset:].startswith((b"<true>", b"</dict>"))


def test_junk_before_the_xml_is_named_by_line():
    text = "Executable=/x\nthis is not codesign output\n" + plistlib.dumps({"a": True}).decode()
    err = fail(text)
    assert "line 2" in err.reason
    assert err.offset == text.index("this is")


# ---------------------------------------------------------------------------- bracket form


WAVEFORMS = """Executable=/Applications/WaveForms.app/Contents/MacOS/WaveForms
[Dict]
\t[Key] com.apple.security.cs.allow-jit
\t[Value]
\t\t[Bool] true
\t[Key] com.apple.security.cs.allow-unsigned-executable-memory
\t[Value]
\t\t[Bool] true
\t[Key] com.apple.security.cs.disable-library-validation
\t[Value]
\t\t[Bool] false
"""


def test_bracket_form_as_codesign_prints_it():
    assert parse_codesign_output(WAVEFORMS) == {
        "com.apple.security.cs.allow-jit": True,
        "com.apple.security.cs.allow-unsigned-executable-memory": True,
        "com.apple.security.cs.disable-library-validation": False,
    }


def test_bracket_form_of_the_forum_entitlements_equals_the_xml():
    ents = parse_codesign_output((PLISTS / "codesign-brackets-forum.txt").read_text())
    assert ents == FORUM
    assert list(ents) == list(FORUM)


def test_bracket_form_with_codesign_verbose_lines_before_it():
    text = ("Executable=/x\nIdentifier=com.example\nFormat=app bundle with Mach-O universal (x86_64 arm64)\n"
            "CodeDirectory v=20500 size=1234 flags=0x10000(runtime) hashes=27+7 location=embedded\n"
            "Info.plist entries=20\nWarning: Specifying ':' in the path is deprecated\n"
            + WAVEFORMS.split("\n", 1)[1])
    assert parse_codesign_output(text)["com.apple.security.cs.allow-jit"] is True


def test_bracket_form_nested_dicts_arrays_and_scalars():
    text = "\n".join([
        "[Dict]",
        "\t[Key] groups",
        "\t[Value]",
        "\t\t[Array]",
        "\t\t\t[String] ABCDE12345.group one",
        "\t\t\t[Dict]",
        "\t\t\t\t[Key] inner",
        "\t\t\t\t[Value]",
        "\t\t\t\t\t[Integer] -5",
        "\t\t\t[String] last",
        "\t[Key] nested",
        "\t[Value]",
        "\t\t[Dict]",
        "\t\t\t[Key] n",
        "\t\t\t[Value]",
        "\t\t\t\t[Number] 0x10",
        "\t\t\t[Key] r",
        "\t\t\t[Value]",
        "\t\t\t\t[Real] 1.5",
        "\t[Key] after",
        "\t[Value]",
        "\t\t[Array]",
        "\t[Key] blob",
        "\t[Value]",
        "\t\t[Data] <00ff10>",
        "\t[Key] empty",
        "\t[Value]",
        "\t\t[String] ",
    ])
    assert parse_codesign_output(text) == {
        "groups": ["ABCDE12345.group one", {"inner": -5}, "last"],
        "nested": {"n": 16, "r": 1.5},
        "after": [],
        "blob": b"\x00\xff\x10",
        "empty": "",
    }


def test_bracket_form_that_lost_its_indentation_in_a_paste():
    flat = "\n".join(line.strip() for line in WAVEFORMS.splitlines())
    assert parse_codesign_output(flat) == parse_codesign_output(WAVEFORMS)
    flat_forum = "\n".join(line.strip() for line in (PLISTS / "codesign-brackets-forum.txt").read_text().splitlines())
    assert parse_codesign_output(flat_forum) == FORUM


def test_bracket_snippet_without_dict_line():
    text = ("[Key] com.apple.security.temporary-exception.sbpl\n\t[Value]\n\t\t[Array]\n"
            '\t\t\t[String] (deny file-write* (home-subpath "/Library/Colors"))\n'
            "\t\t\t[String] (allow file-read*)\n")
    assert parse_codesign_output(text) == {"com.apple.security.temporary-exception.sbpl": [
        '(deny file-write* (home-subpath "/Library/Colors"))', "(allow file-read*)"]}


def test_crlf_and_str_or_bytes_give_the_same_result():
    assert parse_codesign_output(WAVEFORMS.replace("\n", "\r\n")) == parse_codesign_output(WAVEFORMS.encode())


def test_binary_without_entitlements_prints_only_its_executable_line():
    assert parse_codesign_output("Executable=/usr/local/bin/tool\n") == {}


@pytest.mark.parametrize(("text", "needle", "words"), [
    ("[Dict]\n\t[Key] a\n\t[Value]\n\t\t[Bool] maybe\n", "[Bool]", "bad [Bool]"),
    ("[Dict]\n\t[Key] a\n\t[Value]\n\t\t[Integer] five\n", "[Integer]", "bad [Integer]"),
    ("[Dict]\n\t[Key] a\n\t[Value]\n\t\t[Data] not base64!\n", "[Data]", "bad [Data]"),
    ("[Dict]\n\t[Key] a\n\t[Value]\n\t\t[Blob] x\n", "[Blob]", "unknown tag"),
    ("[Dict]\n\t[Key] a\n\t[Bool] true\n", "[Key]", "not followed by [Value]"),
    ("[Dict]\n\t[Key]\n\t[Value]\n\t\t[Bool] true\n", "[Key]", "has no name"),
    ("[Dict]\n\t[Key] a\n\t[Value]\n", "[Value]", "missing"),
    ("[Dict]\n\t[Key] a\n\t[Value]\n\t\t[Bool] true\n\tstray words\n\t[Key] b\n", "\tstray", "not a [Tag] line"),
    ("[Dict]\n\t[Key] a\n\t[Value]\n\t\t[Bool] true\nstray words\n", "stray", "after the entitlements"),
    ("[Dict]\n\t[String] x\n", "[String]", "expects a [Key]"),
    ("[Array]\n\t[String] x\n", "[Array]", "must hold a dictionary"),
    ("[Dict]\n[Bool] true\n", "[Bool]", "follows the complete"),
    ("just some words\n", "just", "no entitlements found"),
    ("", "", "no entitlements found"),
])
def test_bracket_errors_point_at_the_line(text, needle, words):
    err = fail(text)
    assert words in err.reason
    assert err.offset == text.encode().index(needle.encode())


def test_invalid_utf8_is_our_error_with_offset():
    data = b"[Dict]\n\t[Key] a\xff\n"
    assert fail(data).offset == data.index(b"\xff")


def test_deep_bracket_nesting_is_a_limit_error():
    lines = ["[Dict]"] + [("\t" * (i + 1)) + "[Key] k\n" + ("\t" * (i + 1)) + "[Value]\n" + ("\t" * (i + 2))
                          + "[Dict]" for i in range(10_000)]
    err = fail("\n".join(lines))
    assert err.category == LIMIT


# ----------------------------------------------------------------------------- detection


def test_detect_source():
    profiles = FIXTURES / "profiles"
    assert detect_source((PLISTS / "forum-thread-sysext.entitlements").read_bytes()) == "xml-plist"
    assert detect_source((PLISTS / "leading-whitespace.xcent").read_bytes()) == "xml-plist"
    assert detect_source((PLISTS / "bom.entitlements").read_bytes()) == "xml-plist"
    assert detect_source((PLISTS / "binary.entitlements").read_bytes()) == "binary-plist"
    assert detect_source((PLISTS / "codesign-brackets-forum.txt").read_bytes()) == "codesign-output"
    assert detect_source((PLISTS / "codesign-xml-with-executable.txt").read_bytes()) == "codesign-output"
    assert detect_source(WAVEFORMS.split("\n", 1)[1]) == "codesign-output"
    for path in sorted(profiles.iterdir()):
        assert detect_source(path.read_bytes()) == "provisioning-profile", path
    assert detect_source(b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01") == "unknown"
    assert detect_source(b"hello world") == "unknown"
    assert detect_source(b"") == "unknown"


# ------------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.sampled_from(["[Dict]", "[Key] a", "[Key] b", "[Value]", "[Array]", "[String] s",
                                 "[Bool] true", "[Integer] 3", "[Data] 00", "Executable=/x", "junk", ""]),
                max_size=30),
       st.lists(st.integers(0, 4), max_size=30))
def test_random_tag_sequences_give_a_dict_or_our_error(lines, indents):
    text = "\n".join("\t" * (indents[i] if i < len(indents) else 0) + line for i, line in enumerate(lines))
    try:
        ents = parse_codesign_output(text)
    except PlistFormatError as err:
        assert err.offset is None or 0 <= err.offset <= len(text.encode())
        return
    assert isinstance(ents, dict)
