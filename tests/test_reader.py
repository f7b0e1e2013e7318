"""The entry point: dispatch by content for every source, bytes + hint, folder search, errors only MacwasmError."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_scripts import load_script

from macwasm.errors import UNSUPPORTED, InputError, MacwasmError
from macwasm.signing.model import SOURCES
from macwasm.signing.reader import iter_signing_facts, iter_signing_paths, read_signing_facts, sniff

REPO = Path(__file__).resolve().parents[1]
PLISTS = REPO / "tests" / "fixtures" / "plists"
PROFILES = REPO / "tests" / "fixtures" / "profiles"
BUNDLES = REPO / "data" / "bundles"
FORUM_EXE = BUNDLES / "ForumCase.app" / "Contents" / "MacOS" / "ForumCase"
SYSEX_EXE = (BUNDLES / "ContainerFilter.app" / "Contents" / "Library" / "SystemExtensions"
             / "com.example.filter.systemextension" / "Contents" / "MacOS" / "com.example.filter")


def _load_builder():
    return load_script("build_sample_bundles")


B = _load_builder()
ENTS = {"com.apple.security.cs.allow-jit": True, "com.apple.security.application-groups": ["ABCDE12345.g"]}


@pytest.mark.parametrize(("path", "source"), [
    (PLISTS / "forum-thread-sysext.entitlements", "xml-plist"),
    (PLISTS / "leading-whitespace.xcent", "xml-plist"),
    (PLISTS / "binary.entitlements", "binary-plist"),
    (PLISTS / "codesign-brackets-forum.txt", "codesign-output"),
    (PLISTS / "codesign-xml-with-executable.txt", "codesign-output"),
    (PROFILES / "devid-network-sysext.provisionprofile", "provisioning-profile"),
    (PROFILES / "devid-network-sysext-ber.provisionprofile", "provisioning-profile"),
    (FORUM_EXE, "mach-o"),
    (SYSEX_EXE, "mach-o"),
    (BUNDLES / "ForumCase.app", "bundle"),
])
def test_dispatch_by_content(path: Path, source: str) -> None:
    facts = read_signing_facts(path)
    assert facts.source == source and facts.path == str(path)
    assert isinstance(facts.entitlements, dict) and facts.entitlements
    assert facts.error is None
    if not path.is_dir():  # the same bytes without a file give the same answer
        again = read_signing_facts("pasted", data=path.read_bytes())
        assert (again.source, again.entitlements) == (facts.source, facts.entitlements)


def test_file_names_do_not_decide(tmp_path: Path) -> None:
    pasted = tmp_path / "looks-like.plist"
    pasted.write_bytes((PLISTS / "codesign-brackets-forum.txt").read_bytes())
    assert read_signing_facts(pasted).source == "codesign-output"
    binary = tmp_path / "notes.txt"
    binary.write_bytes(plistlib.dumps(ENTS, fmt=plistlib.FMT_BINARY))
    facts = read_signing_facts(binary)
    assert (facts.source, facts.entitlements) == ("binary-plist", ENTS)


def test_same_entitlements_from_every_form() -> None:
    """The forum thread's entitlements read the same as a plist, as codesign's bracket output and in the binary."""
    as_plist = read_signing_facts(PLISTS / "forum-thread-sysext.entitlements").entitlements
    as_brackets = read_signing_facts(PLISTS / "codesign-brackets-forum.txt").entitlements
    assert as_plist == as_brackets
    in_binary = read_signing_facts(FORUM_EXE).entitlements
    assert set(in_binary) == set(as_plist)
    assert in_binary["com.apple.developer.networking.networkextension"] == as_plist[
        "com.apple.developer.networking.networkextension"]


def test_profile_facts_and_not_verified_note() -> None:
    facts = read_signing_facts(PROFILES / "devid-network-sysext.provisionprofile")
    assert facts.profile is not None and facts.profile.signature_verified is False
    assert facts.entitlements == dict(facts.profile.entitlements)
    assert any("NOT verified" in n for n in facts.notes)
    assert facts.signature is None and facts.slices == []


def test_macho_first_slice_and_all_slices() -> None:
    facts = read_signing_facts(FORUM_EXE)
    assert [s.arch for s in facts.slices] == ["x86_64", "arm64"]
    assert facts.signature == facts.slices[0].signature
    assert facts.entitlements == facts.slices[0].entitlements
    assert facts.signature.kind == "signed" and facts.signature.team_id == "ABCDE12345"
    assert facts.signature.identifier == "com.example.forumcase" and facts.signature.hardened_runtime


def test_macho_slices_that_disagree_are_noted(tmp_path: Path) -> None:
    a = B.macho("x86_64", identifier="com.example.a", team="ABCDE12345", entitlements=ENTS)
    b = B.macho("arm64", identifier="com.example.b", team="ABCDE12345", entitlements={})
    facts = read_signing_facts("fat", data=B.fat(a, b))
    assert [s.signature.identifier for s in facts.slices] == ["com.example.a", "com.example.b"]
    assert facts.notes, "slices differ in identifier and entitlements: the reader must say so"


@pytest.mark.parametrize(("kind", "team"), [("adhoc", None), ("linker-signed", None), ("signed", "ABCDE12345")])
def test_signature_kinds_of_built_binaries(kind: str, team: str | None) -> None:
    data = B.macho(identifier="com.example.k", team="ABCDE12345", kind=kind, entitlements=ENTS)
    facts = read_signing_facts("k", data=data)
    assert facts.signature.kind == kind and facts.signature.team_id == team


def test_hint_overrides_sniffing() -> None:
    xml = (PLISTS / "forum-thread-sysext.entitlements").read_bytes()
    assert read_signing_facts("x", data=xml).source == "xml-plist"
    facts = read_signing_facts("x", data=xml, hint="codesign-output")
    assert facts.source == "codesign-output" and facts.entitlements == read_signing_facts("x", data=xml).entitlements


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"data": b"", "hint": "no-such-source"}, "unknown hint"),
    ({"data": b"<plist/>", "hint": "bundle"}, "folder"),
])
def test_bad_hints(kwargs, fragment) -> None:
    with pytest.raises(InputError) as info:
        read_signing_facts("x", **kwargs)
    assert fragment in info.value.reason and info.value.category == UNSUPPORTED


def test_unknown_content_is_unsupported(tmp_path: Path) -> None:
    for data in (b"\0asm\1\0\0\0", b"just some words\nand more", b"\x7fELF\x02\x01\x01"):
        with pytest.raises(InputError) as info:
            read_signing_facts("mystery", data=data)
        assert info.value.category == UNSUPPORTED and info.value.offset == 0
    assert sniff(b"\x7fELF") is None


def test_missing_file_is_io_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_signing_facts(tmp_path / "nope")
    assert info.value.category == "io"


def test_folder_search_takes_bundles_and_signing_files(tmp_path: Path) -> None:
    B.build(tmp_path / "apps")
    (tmp_path / "misc").mkdir()
    (tmp_path / "misc" / "a.entitlements").write_bytes(plistlib.dumps(ENTS))
    (tmp_path / "misc" / "readme.md").write_text("not an input")
    (tmp_path / "misc" / "tool").write_bytes(B.macho(identifier="t", kind="adhoc"))
    os.symlink("/", tmp_path / "misc" / "root")
    found = [os.path.relpath(p, tmp_path) for p in iter_signing_paths([str(tmp_path)])]
    assert found == ["apps/ContainerFilter.app", "apps/DriverHost.app", "apps/ForumCase.app", "apps/JitService.app",
                     "apps/MisplacedModule.app", "misc/a.entitlements", "misc/tool"]
    results = list(iter_signing_facts([str(tmp_path), str(tmp_path / "missing")]))
    assert [type(r).__name__ for _, r in results][:7] == ["SigningFacts"] * 7
    assert isinstance(results[-1][1], InputError)


def test_reading_never_writes(tmp_path: Path) -> None:
    files = [PLISTS / "binary.entitlements", PROFILES / "devid-network-sysext.provisionprofile", FORUM_EXE]
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    for p in files:
        read_signing_facts(p)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def test_every_source_is_reachable() -> None:
    seen = {read_signing_facts(p).source for p in (
        PLISTS / "forum-thread-sysext.entitlements", PLISTS / "binary.entitlements",
        PLISTS / "codesign-brackets-forum.txt", PROFILES / "devid-network-sysext.provisionprofile", FORUM_EXE,
        BUNDLES / "JitService.app", REPO / "tests" / "fixtures" / "der" / "wrapped-rich.der")}
    assert seen == set(SOURCES)


SEEDS = [FORUM_EXE.read_bytes()[:8192], (PLISTS / "binary.entitlements").read_bytes(),
         (PROFILES / "devid-network-sysext.provisionprofile").read_bytes()[:4096],
         (PLISTS / "codesign-brackets-forum.txt").read_bytes()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.integers(0, 8191), st.binary(max_size=8), st.integers(0, 8192))
def test_mutated_inputs_give_facts_or_macwasm_error(seed: bytes, at: int, patch: bytes, cut: int) -> None:
    data = (seed[:at] + patch + seed[at + len(patch):])[: max(cut, 1)]
    try:
        facts = read_signing_facts("mutant", data=data)
    except MacwasmError:
        return
    assert facts.source in SOURCES


DER = REPO / "tests" / "fixtures" / "der"


@pytest.mark.parametrize("name", ["bare-set-jit.der", "wrapped-rich.der", "wrapped-empty.der"])
def test_der_entitlements_files_are_read_in_both_layouts(name):
    """What ``codesign -d --entitlements - --der`` style extractions hand a reviewer: DER, no plist."""
    from macwasm.signing.der import decode_der_entitlements

    raw = (DER / name).read_bytes()
    facts = read_signing_facts(DER / name)
    assert facts.source == "der-entitlements"
    assert facts.entitlements == decode_der_entitlements(raw)
    with_header = b"\xfa\xde\x71\x72" + (len(raw) + 8).to_bytes(4, "big") + raw  # the blob as a signature holds it
    assert read_signing_facts("blob.bin", data=with_header).entitlements == facts.entitlements


def test_broken_der_entitlements_name_the_offset_in_the_file():
    raw = (DER / "wrapped-rich.der").read_bytes()
    with_header = b"\xfa\xde\x71\x72" + (len(raw) + 8).to_bytes(4, "big") + raw[:40]
    with pytest.raises(MacwasmError) as info:
        read_signing_facts("cut.bin", data=with_header)
    assert info.value.category == "malformed" and 8 <= info.value.offset <= len(with_header)


def test_text_that_happens_to_start_like_der_is_not_taken_for_it():
    with pytest.raises(InputError) as info:
        read_signing_facts("notes.txt", data=b"please sign this build")
    assert info.value.category == UNSUPPORTED
