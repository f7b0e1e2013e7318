"""Real signed binaries from npm and PyPI (pinned, downloaded once into ``.cache/``) against LIEF.

Each slice's facts are compared with what LIEF reads (architectures, whether LC_CODE_SIGNATURE
exists) plus an independent decode of the CodeDirectory and XML entitlements from the bytes LIEF
returns, and the signer certificates as OpenSSL (``cryptography``) reads the CMS. The few values
written out below (team, layouts, keys) were checked that way and with ``llvm-objdump --macho``.

Whole trees (``TREES`` of the fetch script: a PySide6 wheel with 78 frameworks in wheel layout and
235 Mach-O files, a PyQt6 WebEngine wheel with a framework holding a helper app) are read by the
bundle reader, each executable found is checked against an independent walk of the tree, each
slice against LIEF, and each wheel read as a ``.zip`` artifact against the unpacked tree.
"""

from __future__ import annotations

import plistlib
import struct
import warnings
from pathlib import Path

import pytest
from repo_scripts import load_script

from macwasm.inputs import open_readonly
from macwasm.signing.macho import read_macho, slice_disagreements

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "signed-fixtures"
NODE_TEAM = "HX7739G8FX"
NODE_ENTITLEMENTS = {
    "com.apple.security.cs.allow-jit",
    "com.apple.security.cs.allow-unsigned-executable-memory",
    "com.apple.security.cs.allow-dyld-environment-variables",
    "com.apple.security.cs.disable-library-validation",
    "com.apple.security.cs.disable-executable-page-protection",
    "com.apple.security.get-task-allow",
}

pytestmark = pytest.mark.network


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    return load_script("fetch_signed_fixtures").fetch_all(CACHE)


def ours(path: Path):
    with open_readonly(path, max_size=1 << 32) as buf:
        return read_macho(buf, path=str(path))


def lief_slices(path: Path) -> list[dict]:
    """Independent view: LIEF for the file layout, a few lines of struct/plistlib for the signature bytes."""
    import lief

    lief.logging.disable()
    fat = lief.MachO.parse(str(path))
    out = []
    for i in range(len(fat)):
        b = fat.at(i)
        cpu = str(b.header.cpu_type).rsplit(".", 1)[-1]
        arch = {"ARM64": "arm64", "X86_64": "x86_64"}.get(cpu, cpu)
        facts: dict = {"arch": arch, "signed": b.has_code_signature, "slots": {}}
        if b.has_code_signature:
            blob = bytes(b.code_signature.content)
            _, _, count = struct.unpack_from(">III", blob)
            for k in range(count):
                slot, off = struct.unpack_from(">II", blob, 12 + 8 * k)
                length = struct.unpack_from(">I", blob, off + 4)[0]
                facts["slots"][slot] = blob[off:off + length]
            cd = facts["slots"][0]
            version, flags, _, ident_off = struct.unpack_from(">IIII", cd, 8)
            team_off = struct.unpack_from(">I", cd, 48)[0] if version >= 0x20200 else 0
            facts["flags"] = flags
            facts["identifier"] = cd[ident_off:cd.index(b"\0", ident_off)].decode()
            facts["cd_team"] = cd[team_off:cd.index(b"\0", team_off)].decode() if team_off else None
            if 5 in facts["slots"]:
                facts["xml"] = plistlib.loads(facts["slots"][5][8:].lstrip())
        out.append(facts)
    return out


def cms_certificate_ous(cms_blob: bytes) -> set[str]:
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    with warnings.catch_warnings():  # codesign writes BER (indefinite lengths); OpenSSL warns, then reads it
        warnings.simplefilter("ignore", UserWarning)
        certs = pkcs7.load_der_pkcs7_certificates(cms_blob[8:])
    return {a.value for c in certs for a in c.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)}


@pytest.mark.parametrize("name", ["node-18.9.0-darwin-arm64", "node-22.12.0-darwin-x64", "esbuild-0.25.0-darwin-arm64",
                                  "markupsafe-3.0.2-speedups-universal2.so"])
def test_every_slice_agrees_with_lief(binaries: dict[str, Path], name: str) -> None:
    path = binaries[name]
    mine, theirs = ours(path), lief_slices(path)
    assert [s.arch for s in mine] == [t["arch"] for t in theirs]
    for s, t in zip(mine, theirs, strict=True):
        assert (s.signature is not None) == t["signed"]
        if not t["signed"]:
            continue
        sig = s.signature
        assert sig.identifier == t["identifier"]
        assert sig.hardened_runtime == bool(t["flags"] & 0x10000)
        assert ("linker-signed" in sig.flags) == bool(t["flags"] & 0x20000)
        assert sig.has_requirements == (2 in t["slots"])
        assert sig.cms == ("absent" if 0x10000 not in t["slots"] else
                           "empty" if len(t["slots"][0x10000]) == 8 else "present")
        if sig.kind == "signed":
            assert sig.team_id == t["cd_team"]
            assert sig.team_id in cms_certificate_ous(t["slots"][0x10000])
        else:
            assert sig.team_id is None
        assert s.entitlements == t.get("xml")
        assert (s.entitlements_blob != "absent") == (5 in t["slots"])
        assert (s.der_entitlements_blob != "absent") == (7 in t["slots"])


@pytest.mark.parametrize(("name", "arch", "layout"), [("node-18.9.0-darwin-arm64", "arm64", "bare-set"),
                                                      ("node-22.12.0-darwin-x64", "x86_64", "wrapped")])
def test_node_developer_id_hardened_runtime(binaries: dict[str, Path], name: str, arch: str, layout: str) -> None:
    (s,) = ours(binaries[name])
    sig = s.signature
    assert (s.arch, sig.kind, sig.team_id, sig.identifier) == (arch, "signed", NODE_TEAM, "node")
    assert sig.hardened_runtime and sig.flags == ("runtime",) and sig.cms == "present" and sig.has_timestamp is True
    assert f"Developer ID Application: Node.js Foundation ({NODE_TEAM})" in sig.signer
    assert sig.signer_name == f"Developer ID Application: Node.js Foundation ({NODE_TEAM})"
    assert set(s.entitlements) == NODE_ENTITLEMENTS and all(v is True for v in s.entitlements.values())
    assert s.der_layout == layout and s.der_matches_xml is True and slice_disagreements([s]) == []


def test_node_18_xml_blob_starts_with_whitespace(binaries: dict[str, Path]) -> None:
    (t,) = lief_slices(binaries["node-18.9.0-darwin-arm64"])
    assert t["slots"][5][8:].startswith(b"  <?xml")  # the trap the plist reader must handle


def test_esbuild_is_linker_signed_without_team(binaries: dict[str, Path]) -> None:
    (s,) = ours(binaries["esbuild-0.25.0-darwin-arm64"])
    assert (s.signature.kind, s.signature.team_id, s.signature.cms) == ("linker-signed", None, "absent")
    assert s.entitlements is None and s.entitlements_blob == "absent"


def test_universal_wheel_slices_differ(binaries: dict[str, Path]) -> None:
    slices = ours(binaries["markupsafe-3.0.2-speedups-universal2.so"])
    assert [(s.arch, s.signature.kind if s.signature else None) for s in slices] == [
        ("x86_64", None), ("arm64", "linker-signed")]
    assert "slices disagree on signature kind: x86_64=unsigned, arm64=linker-signed" in slice_disagreements(slices)


# ------------------------------------------------------------------------ whole trees from wheels

MACHO_MAGICS = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
PYSIDE = "pyside6-essentials-6.12.0-macos-universal2"
WEBENGINE = "pyqt6-webengine-qt6-6.11.2-macos-arm64"


@pytest.fixture(scope="session")
def trees() -> dict[str, Path]:
    return load_script("fetch_signed_fixtures").fetch_trees(CACHE)


def macho_files(root: Path) -> list[Path]:
    """Independent of macwasm: every regular file under ``root`` that starts with a Mach-O magic."""
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as fh:
                if fh.read(4) in MACHO_MAGICS:
                    out.append(p)
    return out


def assert_slices_match_lief(mine, path: Path) -> None:
    theirs = lief_slices(path)
    assert [s.arch for s in mine] == [t["arch"] for t in theirs], path
    for s, t in zip(mine, theirs, strict=True):
        assert (s.signature is not None) == t["signed"], (path, s.arch)
        if not t["signed"]:
            continue
        sig = s.signature
        assert sig.identifier == t["identifier"], (path, s.arch)
        assert ("adhoc" in sig.flags) == bool(t["flags"] & 0x2), (path, s.arch)
        assert ("linker-signed" in sig.flags) == bool(t["flags"] & 0x20000), (path, s.arch)
        assert sig.hardened_runtime == bool(t["flags"] & 0x10000), (path, s.arch)
        assert sig.team_id == (t["cd_team"] if sig.kind == "signed" else None), (path, s.arch)
        assert s.entitlements == t.get("xml"), (path, s.arch)


def test_pyside_wheel_every_framework_executable_is_found(trees: dict[str, Path]) -> None:
    """Issue 13: on a PySide6 install macwasm read 0 of 78 framework executables; now all 78, from Versions/A."""
    from macwasm.signing.reader import iter_signing_items, read_signing_facts

    root = trees[PYSIDE]
    frameworks = sorted(root.rglob("*.framework"))
    expected = {fw: [p for p in macho_files(fw) if p.parent.parent.name == "Versions"] for fw in frameworks}
    assert len(frameworks) == 78 and all(len(v) == 1 for v in expected.values())
    items = [i.path for i in iter_signing_items([str(root)])]
    assert sorted(p for p in items if p.endswith(".framework")) == sorted(map(str, frameworks))
    for fw, [exe] in expected.items():
        facts = read_signing_facts(fw)
        assert facts.error is None and facts.role == "framework", facts.error
        assert any("Versions/Current: missing" in n for n in facts.notes)
        assert [s.to_dict() for s in facts.slices] == [s.to_dict() for s in read_signing_facts(exe).slices]
        assert_slices_match_lief(facts.slices, exe)


def test_pyside_wheel_every_macho_agrees_with_lief_per_slice(trees: dict[str, Path]) -> None:
    from macwasm.signing.reader import read_signing_facts

    files = macho_files(trees[PYSIDE])
    assert len(files) > 200
    kinds = set()
    for path in files:
        facts = read_signing_facts(path)
        assert_slices_match_lief(facts.slices, path)
        kinds |= {(s.arch, s.signature.kind if s.signature else "unsigned") for s in facts.slices}
    # what this wheel really holds: ad hoc and linker-signed arm64, ad hoc and unsigned x86_64
    assert ("arm64", "linker-signed") in kinds and ("x86_64", "unsigned") in kinds


def test_pyside_apps_and_lone_libraries(trees: dict[str, Path]) -> None:
    from macwasm.signing.reader import read_signing_facts

    root = trees[PYSIDE] / "PySide6"
    for name in ("Assistant", "Designer", "Linguist"):
        facts = read_signing_facts(root / f"{name}.app")
        assert (facts.role, facts.error, [s.arch for s in facts.slices]) == ("app", None, ["x86_64", "arm64"])
        assert_slices_match_lief(facts.slices, root / f"{name}.app" / "Contents" / "MacOS" / name)
    plugin = next((root / "Qt" / "plugins" / "platforms").glob("libqcocoa.dylib"))
    assert read_signing_facts(plugin).role == "framework"  # MH_BUNDLE or MH_DYLIB: library code


def test_webengine_framework_with_its_helper_app(trees: dict[str, Path]) -> None:
    from macwasm.signing.reader import read_signing_facts

    fw = trees[WEBENGINE] / "PyQt6" / "Qt6" / "lib" / "QtWebEngineCore.framework"
    facts = read_signing_facts(fw)
    assert facts.error is None and facts.bundle_id == "org.qt-project.QtWebEngineCore"  # as plistlib reads it
    assert_slices_match_lief(facts.slices, fw / "Versions" / "A" / "QtWebEngineCore")
    [helper] = facts.nested
    assert (helper.path, helper.role, helper.error) == ("Helpers/QtWebEngineProcess.app", "helper-tool", None)
    assert helper.bundle_id == "org.qt-project.Qt.QtWebEngineProcess"
    exe = fw / "Helpers" / "QtWebEngineProcess.app" / "Contents" / "MacOS" / "QtWebEngineProcess"
    (theirs,) = lief_slices(exe)
    assert helper.signature.identifier == theirs["identifier"] and helper.entitlements == theirs.get("xml")


@pytest.mark.parametrize("name", [PYSIDE, WEBENGINE])
def test_the_wheel_read_as_a_zip_gives_the_facts_of_the_installed_tree(trees: dict[str, Path], name: str) -> None:
    """The artifact reader on a real archive: every item inside the wheel reads as it does once unpacked."""
    from macwasm.signing.reader import iter_signing_items, read_signing_facts

    root, archive = trees[name], CACHE / f"{name}.zip"
    inside = [i.path for i in iter_signing_items([str(archive)])]
    on_disk = [i.path for i in iter_signing_items([str(root)])]
    assert [p.split("!/", 1)[1] for p in inside] == [str(Path(p).relative_to(root)) for p in on_disk]
    for a, b in zip(inside, on_disk, strict=True):
        fa, fb = read_signing_facts(a).to_dict(), read_signing_facts(b).to_dict()
        for d in (fa, fb):
            d.pop("path")
        # a large member keeps only what the readers read (headers, load commands, signatures and what engine
        # detection reads), so everything, the engines included, is the same as unpacked
        assert fa == fb, a
