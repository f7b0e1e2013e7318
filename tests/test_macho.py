"""Mach-O and fat headers, load commands, real lld-linked files (checked against LIEF), hostile headers."""

from __future__ import annotations

import hashlib
import mmap
import shutil
import struct
import subprocess
import tracemalloc
from pathlib import Path

import macho_builders as mb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macwasm.errors import LIMIT, MachOFormatError
from macwasm.limits import MACHO_MAX_FAT_ARCHS, MACHO_MAX_LOAD_COMMANDS, MACHO_MAX_SIZEOFCMDS
from macwasm.signing.macho import arch_family, arch_name, is_macho, read_macho, slice_disagreements, version_text

FIXTURES = Path(__file__).parent / "fixtures" / "macho"


def error(data: bytes, words: str = "", category: str = "malformed") -> MachOFormatError:
    with pytest.raises(MachOFormatError) as info:
        read_macho(data, path="bad.macho")
    err = info.value
    assert err.path == "bad.macho" and err.message.startswith("bad.macho: at offset 0x")
    assert err.offset is not None and 0 <= err.offset <= len(data)
    assert words in err.reason and err.category == category
    return err


# ---------------------------------------------------------------------------------- recognising


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01", True),
    (b"\xce\xfa\xed\xfe\x07\x00\x00\x00", True),
    (b"\xfe\xed\xfa\xce\x00\x00\x00\x12", True),
    (b"\xfe\xed\xfa\xcf\x01\x00\x00\x12", True),
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", True),
    (b"\xca\xfe\xba\xbf\x00\x00\x00\x01", True),
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", False),  # Java 8 class file: minor 0, major 52
    (b"\xca\xfe\xba\xbe\xff\xff\x00\x3d", False),  # Java 17 preview class file
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x00", False),
    (b"\xca\xfe\xba\xbe\x80\x00\x00\x00", False),
    (b"\xca\xfe\xba\xbe", False),
    (b"\0asm\1\0\0\0", False),
    (b"", False),
])
def test_is_macho(head: bytes, expected: bool) -> None:
    assert is_macho(head) is expected


@pytest.mark.parametrize(("arch", "bits", "big_endian"), [
    ("arm64", 64, False), ("arm64e", 64, False), ("x86_64", 64, False), ("i386", 32, False), ("armv7", 32, False),
    ("arm64_32", 32, False), ("x86_64", 64, True),
])
def test_arch_names_bits_and_byte_order(arch: str, bits: int, big_endian: bool) -> None:
    data = mb.thin(arch, mb.signature("com.example.a", entitlements={}), bits=bits, big_endian=big_endian)
    (s,) = read_macho(data)
    assert s.arch == arch and s.signature.identifier == "com.example.a" and s.platform == "macos"


def test_arch_name_table() -> None:
    assert arch_name(0x01000007, 8) == "x86_64h"
    assert arch_name(0x01000007, 0x80000003) == "x86_64"  # LIB64 capability bit ignored
    assert arch_name(0x0100000C, 0x80000002) == "arm64e"
    assert arch_name(0x12, 0) == "ppc" and arch_name(0x99, 0) == "cpu-0x99"
    assert arch_name(0x01000012, 100) == "ppc64" and arch_name(0x12, 10) == "ppc"  # ppc7400 is a ppc
    assert arch_name(0x0200000C, 1) == "arm64_32" and arch_name(7, 4) == "i386" and arch_name(14, 0) == "sparc"
    assert [arch_family(a) for a in ("arm64e", "x86_64h", "arm64", "ppc", "i386", "arm64_32")] == [
        "arm64", "x86_64", "arm64", "ppc", "i386", "arm64_32"]


@pytest.mark.parametrize(("name", "archs"), [("ppc-only-unsigned", ["ppc"]),
                                              ("universal-i386-ppc", ["i386", "ppc"]),
                                              ("universal-sha1-sha256-cds", ["x86_64", "arm64"])])
def test_every_slice_names_its_architecture(name: str, archs: list[str]) -> None:
    slices = read_macho((FIXTURES / name).read_bytes(), path=name)
    assert [s.arch for s in slices] == archs
    assert all(s.signature is None for s in slices) == ("ppc" in name)


def test_big_endian_ppc64_and_x86_64h_slices() -> None:
    data = mb.fat(mb.thin("ppc64", bits=64, big_endian=True), mb.thin("x86_64h", mb.signature("com.example.h")))
    assert [(s.arch, s.signature is not None) for s in read_macho(data)] == [("ppc64", False), ("x86_64h", True)]


def test_build_version_and_version_min() -> None:
    (s,) = read_macho(mb.thin("arm64", platform=10, minos=0x140000, sdk=0x170401))
    assert (s.platform, s.min_os, s.sdk, s.signature) == ("driverkit", "20.0", "23.4.1", None)
    vmin = struct.pack("<IIII", mb.LC_VERSION_MIN_MACOSX, 16, 0x0A0D00, 0x0B0000)
    (s,) = read_macho(mb.thin("x86_64", build_version=False, extra_cmds=vmin, extra_ncmds=1))
    assert (s.platform, s.min_os, s.sdk) == ("macos", "10.13", "11.0")
    (s,) = read_macho(mb.thin("x86_64", build_version=False))
    assert (s.platform, s.min_os, s.sdk) == (None, None, None)
    assert version_text(0x0E0201) == "14.2.1"


def test_unknown_load_commands_are_skipped() -> None:
    uuid = struct.pack("<II", mb.LC_UUID, 24) + bytes(16)
    (s,) = read_macho(mb.thin("arm64", mb.signature(entitlements={}), extra_cmds=uuid, extra_ncmds=1))
    assert s.signature.kind == "signed"


# ------------------------------------------------------------------------------------- universal


@pytest.mark.parametrize("bits", [32, 64])
def test_fat_slices_in_file_order_with_their_own_facts(bits: int) -> None:
    data = mb.fat(mb.thin("x86_64", mb.signature("com.example.x", entitlements={})),
                  mb.thin("arm64", mb.signature("com.example.a", kind="adhoc", team=None, entitlements=mb.JIT)),
                  mb.thin("i386", bits=32), bits=bits)
    slices = read_macho(data)
    assert [s.arch for s in slices] == ["x86_64", "arm64", "i386"]
    assert [s.signature.kind if s.signature else None for s in slices] == ["signed", "adhoc", None]
    assert [s.entitlements for s in slices] == [{}, mb.JIT, None]
    notes = slice_disagreements(slices)
    assert "slices disagree on signature kind: x86_64=signed, arm64=adhoc, i386=unsigned" in notes
    assert "slices disagree on team id: x86_64=ABCDE12345, arm64=none, i386=none" in notes
    assert any(n.startswith("slices disagree on identifier") for n in notes)
    assert any(n.startswith("slices disagree on entitlements") for n in notes)


def test_identical_slices_have_no_disagreements() -> None:
    sig = mb.signature("com.example.same", entitlements=mb.JIT)
    assert slice_disagreements(read_macho(mb.fat(mb.thin("x86_64", sig), mb.thin("arm64", sig)))) == []


def test_committed_fixtures_are_what_the_builders_make() -> None:
    for name, data in mb.fixtures().items():
        assert (FIXTURES / name).read_bytes() == data, f"{name}: run tests/macho_builders.py"


@pytest.mark.parametrize(("name", "archs", "kinds"), [
    ("signed-hardened-arm64", ["arm64"], ["signed"]),
    ("signed-bare-der-x86_64", ["x86_64"], ["signed"]),
    ("adhoc-empty-entitlements-arm64", ["arm64"], ["adhoc"]),
    ("linker-signed-cd-only-arm64", ["arm64"], ["linker-signed"]),
    ("linker-signed-lld-arm64", ["arm64"], ["linker-signed"]),
    ("unsigned-x86_64", ["x86_64"], [None]),
    ("universal-differing-slices", ["x86_64", "arm64"], ["signed", "signed"]),
    ("universal64-signed-and-unsigned", ["arm64e", "x86_64"], ["signed", None]),
    ("der-disagrees-with-xml-arm64", ["arm64"], ["signed"]),
])
def test_committed_fixtures(name: str, archs: list[str], kinds: list) -> None:
    slices = read_macho((FIXTURES / name).read_bytes(), path=name)
    assert [s.arch for s in slices] == archs
    assert [s.signature.kind if s.signature else None for s in slices] == kinds


def test_read_only_mmap_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "uni"
    path.write_bytes((FIXTURES / "universal-differing-slices").read_bytes())
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        assert len(read_macho(buf, path=str(path))) == 2
        assert len(read_macho(memoryview(buf), path=str(path))) == 2
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_large_file_is_read_lazily(tmp_path: Path) -> None:
    """A 1 GiB (sparse) file: only header, load commands and the signature are copied into Python."""
    size = 1 << 30
    sig = mb.signature("com.example.big", entitlements=mb.JIT)
    head = bytearray(mb.thin("arm64", sig)[:mb.SIG_OFFSET])
    struct.pack_into("<I", head, mb.SIGCMD_AT + 8, size - len(sig))
    path = tmp_path / "big"
    with open(path, "wb") as fh:
        fh.write(head)
        fh.seek(size - len(sig))
        fh.write(sig)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        tracemalloc.start()
        (s,) = read_macho(buf, path=str(path))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert s.entitlements == mb.JIT
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte file"


# ------------------------------------------------------------------------------------ bad headers


def test_too_short_and_not_macho() -> None:
    error(b"", "too short")
    error(b"\xcf\xfa", "too short")
    error(b"\0asm\1\0\0\0", "not a Mach-O file")
    error(mb.thin("arm64")[:20], "truncated")


def test_absurd_ncmds_and_sizeofcmds() -> None:
    data = bytearray(mb.thin("arm64"))
    struct.pack_into("<I", data, mb.NCMDS_AT, MACHO_MAX_LOAD_COMMANDS + 1)
    error(bytes(data), "load commands, more than the limit", LIMIT)
    data = bytearray(mb.thin("arm64"))
    struct.pack_into("<I", data, mb.SIZEOFCMDS_AT, MACHO_MAX_SIZEOFCMDS + 8)
    error(bytes(data), "more than the limit", LIMIT)
    data = bytearray(mb.thin("arm64"))
    struct.pack_into("<I", data, mb.SIZEOFCMDS_AT, 10_000)
    error(bytes(data), "run past the end of the file")
    data = bytearray(mb.thin("arm64"))
    struct.pack_into("<I", data, mb.NCMDS_AT, 40)
    error(bytes(data), "cannot fit in sizeofcmds")


@pytest.mark.parametrize(("cmdsize", "words"), [(0, "not a multiple of 8"), (12, "not a multiple of 8"),
                                                (4, "of at least 8"), (200, "runs past sizeofcmds")])
def test_bad_cmdsize(cmdsize: int, words: str) -> None:
    data = bytearray(mb.thin("arm64", mb.signature()))
    struct.pack_into("<I", data, mb.FIRST_CMD_AT + 4, cmdsize)
    error(bytes(data), words)


def test_32_bit_commands_need_only_4_byte_multiples() -> None:
    uuid_like = struct.pack("<II", 0x99, 12) + bytes(4)
    (s,) = read_macho(mb.thin("i386", extra_cmds=uuid_like, extra_ncmds=1, bits=32))
    assert s.arch == "i386"


def test_ncmds_larger_than_the_commands_present() -> None:
    data = bytearray(mb.thin("arm64", mb.signature()))
    struct.pack_into("<I", data, mb.NCMDS_AT, 4)
    struct.pack_into("<I", data, mb.SIZEOFCMDS_AT, 48)  # 2 real commands = 40 bytes, then zeros
    error(bytes(data), "not a multiple of 8 of at least 8")


def test_signature_beyond_the_file_and_twice() -> None:
    data = bytearray(mb.thin("arm64", mb.signature()))
    struct.pack_into("<I", data, mb.SIGCMD_AT + 8, 0xFFFFFF00)
    error(bytes(data), "runs past the end of the slice")
    sigcmd = struct.pack("<IIII", mb.LC_CODE_SIGNATURE, 16, mb.SIG_OFFSET, 64)
    error(mb.thin("arm64", mb.signature(), extra_cmds=sigcmd, extra_ncmds=1), "more than one LC_CODE_SIGNATURE")
    short = bytearray(mb.thin("arm64", mb.signature()))
    struct.pack_into("<I", short, mb.SIGCMD_AT + 4, 8)
    error(bytes(short), "shorter than 16")


def test_fat_claiming_2_pow_31_architectures_is_a_limit() -> None:
    err = error(bytes.fromhex("cafebabe80000000") + bytes(64), "more than the limit", LIMIT)
    assert err.offset == 4
    error(struct.pack(">II", 0xCAFEBABE, MACHO_MAX_FAT_ARCHS + 1) + bytes(64), "more than the limit", LIMIT)


def test_bad_fat_headers() -> None:
    good = mb.fat(mb.thin("x86_64"), mb.thin("arm64"))
    error(struct.pack(">II", 0xCAFEBABE, 0), "no architectures")
    error(good[:30], "needs 48 bytes")
    past = bytearray(good)
    struct.pack_into(">I", past, 8 + 20 + 12, len(good))  # second slice's size
    error(bytes(past), "does not fit")
    inside = bytearray(good)
    struct.pack_into(">I", inside, 8 + 8, 16)  # first slice's offset inside the header
    error(bytes(inside), "inside the fat header")
    overlap = bytearray(good)
    first_off = struct.unpack_from(">I", good, 16)[0]
    struct.pack_into(">I", overlap, 8 + 20 + 8, first_off + 8)  # second slice starts inside the first
    struct.pack_into(">I", overlap, 8 + 20 + 12, 256)
    error(bytes(overlap), "overlap")
    oversized = bytearray(mb.fat(mb.thin("x86_64"), bits=64))
    struct.pack_into(">Q", oversized, 8 + 16, 1 << 62)
    error(bytes(oversized), "does not fit")


def test_slice_that_contradicts_the_fat_header_or_is_not_macho() -> None:
    wrong = bytearray(mb.fat(mb.thin("x86_64")))
    struct.pack_into(">I", wrong, 8, 0x0100000C)  # fat header says arm64
    error(bytes(wrong), "but the fat header says arm64")
    nested = mb.fat(mb.thin("x86_64"))
    inner_off = struct.unpack_from(">I", nested, 16)[0]
    twice = bytearray(nested)
    twice[inner_off:inner_off + 8] = struct.pack(">II", 0xCAFEBABE, 1)
    error(bytes(twice), "a fat header inside a fat file")


def test_truncation_at_every_offset_only_raises_reader_errors() -> None:
    data = (FIXTURES / "signed-hardened-arm64").read_bytes()
    for cut in range(0, len(data)):
        try:
            read_macho(data[:cut], path="cut")
        except MachOFormatError as err:  # DER faults come wrapped
            assert err.offset is not None and 0 <= err.offset <= cut


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(p.name for p in FIXTURES.iterdir())), st.data())
def test_byte_flips_only_raise_reader_errors(name: str, data) -> None:
    raw = bytearray((FIXTURES / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    try:
        slices = read_macho(bytes(raw), path=name)
    except MachOFormatError as err:
        assert err.offset is not None and 0 <= err.offset <= len(raw)
    else:
        for s in slices:
            if s.signature and s.signature.kind in ("adhoc", "linker-signed"):
                assert s.signature.team_id is None


# ----------------------------------------------------------- real Mach-O linked here by clang + lld

CLANG = shutil.which("clang")
LIPO = shutil.which("llvm-lipo") or shutil.which("llvm-lipo-14")


@pytest.fixture(scope="module")
def linked(tmp_path_factory) -> dict[str, Path]:
    """arm64 executable and dylib, x86_64 executable, and their universal file, linked by ld64.lld.

    No macOS SDK is needed: ``-nostdlib`` with ``main`` as the entry point. ld64.lld signs arm64
    output itself (linker-signed); x86_64 output stays unsigned, as with Apple's ld64.
    """
    if CLANG is None:
        pytest.skip("clang is not installed (scripts/install-system-deps.sh installs clang, lld and llvm)")
    folder = tmp_path_factory.mktemp("linked")
    (folder / "main.c").write_text("int main(void) { return 0; }\n")
    out = {}
    for name, target, extra in (("exe-arm64", "arm64-apple-macos11", ["-Wl,-e,_main"]),
                                ("exe-x86_64", "x86_64-apple-macos11", ["-Wl,-e,_main"]),
                                ("lib-arm64.dylib", "arm64-apple-macos11", ["-shared"])):
        subprocess.run([CLANG, "-target", target, "-fuse-ld=lld", "-nostdlib", *extra, "-o", str(folder / name),
                        str(folder / "main.c")], check=True, capture_output=True)
        out[name] = folder / name
    if LIPO:
        subprocess.run([LIPO, "-create", str(out["exe-x86_64"]), str(out["exe-arm64"]), "-output",
                        str(folder / "universal")], check=True, capture_output=True)
        out["universal"] = folder / "universal"
    return out


def lief_view(path: Path) -> list[dict]:
    """Per-slice facts as LIEF reads them, with the CodeDirectory flags decoded from LIEF's bytes."""
    import lief

    lief.logging.disable()
    fat = lief.MachO.parse(str(path))
    out = []
    for i in range(len(fat)):
        b = fat.at(i)
        facts = {"signed": b.has_code_signature, "platform": None, "minos": None, "flags": None, "ident": None}
        if b.has_build_version:
            facts["platform"] = str(b.build_version.platform).rsplit(".", 1)[-1].lower()
            facts["minos"] = ".".join(map(str, b.build_version.minos[:2]))
        if b.has_code_signature:
            blob = bytes(b.code_signature.content)
            (cd_at,) = struct.unpack_from(">I", blob, 16)  # first index entry: slot 0
            flags, _, ident_off = struct.unpack_from(">III", blob, cd_at + 12)
            facts["flags"] = flags
            facts["ident"] = blob[cd_at + ident_off:blob.index(b"\0", cd_at + ident_off)].decode()
        out.append(facts)
    return out


def test_lld_linked_files_agree_with_lief(linked: dict[str, Path]) -> None:
    for name, path in linked.items():
        ours = read_macho(path.read_bytes(), path=name)
        theirs = lief_view(path)
        assert len(ours) == len(theirs), name
        for s, t in zip(ours, theirs, strict=True):
            assert (s.signature is not None) == t["signed"], name
            assert (s.platform, s.min_os) == (t["platform"], t["minos"]), name
            if t["signed"]:
                assert s.signature.kind == "linker-signed" and s.signature.team_id is None
                assert s.signature.identifier == t["ident"]
                assert t["flags"] == 0x20002 and s.signature.flags == ("adhoc", "linker-signed")
                assert s.entitlements is None and s.signature.cms == "absent"
    assert [s.arch for s in read_macho(linked["exe-arm64"].read_bytes())] == ["arm64"]
    if "universal" in linked:
        uni = read_macho(linked["universal"].read_bytes())
        assert [(s.arch, s.signature.kind if s.signature else None) for s in uni] == [
            ("x86_64", None), ("arm64", "linker-signed")]
