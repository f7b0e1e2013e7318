"""The error model: one formatter, one error class per reader (inner readers' faults wrapped with their
offset), and categories that tell a broken input from a mistyped option."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from macwasm import errors
from macwasm.errors import (
    BundleError,
    DerFormatError,
    MachOFormatError,
    MacwasmError,
    PlistFormatError,
    TableFormatError,
    UsageError,
    XcodeProjectError,
    format_error,
)
from macwasm.vocabulary import LIMIT, MALFORMED, USAGE

sys.path.insert(0, str(Path(__file__).resolve().parent))
import macho_builders as mb
from test_bundle import make_app


def test_one_formatter_writes_every_message() -> None:
    assert format_error("bad", path="a.wasm", offset=0x1A) == "a.wasm: at offset 0x1a: bad"
    assert format_error("bad", offset=0x1A) == "at offset 0x1a: bad"
    assert format_error("bad", path="p.pbxproj", offset=16, line=3) == "p.pbxproj: line 3 (offset 0x10): bad"
    assert format_error("bad") == "bad"
    err = XcodeProjectError("bad", path="p.pbxproj", offset=16, line=3)
    assert err.message == "p.pbxproj: line 3 (offset 0x10): bad"
    assert err.message_without_path == "line 3 (offset 0x10): bad"
    assert str(MacwasmError("x", path="f")) == "f: x"


def test_wrap_keeps_path_offset_line_and_category() -> None:
    inner = DerFormatError("too deep", path="f", offset=0x40, category=LIMIT)
    outer = MachOFormatError.wrap(inner, reason="DER entitlements blob: too deep")
    assert type(outer) is MachOFormatError and (outer.path, outer.offset, outer.category) == ("f", 0x40, LIMIT)
    same = MachOFormatError("x")
    assert MachOFormatError.wrap(same) is same


def test_integrity_error_lives_in_errors_and_the_dead_record_is_gone() -> None:
    from macwasm.integrity import IntegrityError

    assert IntegrityError is errors.IntegrityError and issubclass(IntegrityError, MacwasmError)
    assert not hasattr(errors, "ErrorRecord")


def test_read_macho_wraps_a_der_fault_in_its_own_error_with_the_file_offset() -> None:
    bad_der = b"\x70\x10\x02\x01\x01\x31\x00"  # a wrapped DER value whose length runs past the blob
    data = mb.thin("arm64", mb.signature(entitlements={"a": True}, der=bad_der))
    from macwasm.signing.macho import read_macho

    with pytest.raises(MachOFormatError) as info:
        read_macho(data, path="bad-der")
    err = info.value
    assert not isinstance(err, DerFormatError) and err.reason.startswith("DER entitlements blob: ")
    assert err.offset is not None and mb.SIG_OFFSET < err.offset < len(data) and err.path == "bad-der"


def test_read_bundle_wraps_a_malformed_info_plist_in_bundle_error(tmp_path: Path) -> None:
    from macwasm.signing.bundle import read_bundle

    host = make_app(tmp_path)
    (host / "Contents" / "Info.plist").write_bytes(b"<?xml version='1.0'?><plist><dict><key>x</key></plist>")
    with pytest.raises(BundleError) as info:
        read_bundle(host)
    assert not isinstance(info.value, PlistFormatError) and info.value.category == MALFORMED
    assert info.value.path.endswith("Host.app/Contents/Info.plist") and info.value.offset is not None


def test_read_bundle_wraps_an_unreadable_info_plist(tmp_path: Path) -> None:
    from macwasm.signing.bundle import read_bundle

    host = make_app(tmp_path)
    plist = host / "Contents" / "Info.plist"
    plist.unlink()
    plist.mkdir()  # there, but not a file that can be read
    with pytest.raises(BundleError) as info:
        read_bundle(host)
    assert info.value.path.endswith("Info.plist")


def test_a_mistyped_option_is_a_usage_error_not_io() -> None:
    from macwasm.policy import check

    with pytest.raises(UsageError) as info:
        check(entitlements=["x"], runtime="nope")
    assert info.value.category == USAGE and "runtime 'nope' is not one of" in info.value.reason
    with pytest.raises(UsageError):
        check(entitlements=["a b"])


def test_an_audit_cell_out_of_its_vocabulary_is_a_table_error() -> None:
    from macwasm.policy.audit_table import row_target

    with pytest.raises(TableFormatError, match="hardened_runtime 'maybe' is not yes/no/empty"):
        row_target({"name": "x", "entitlements": "", "hardened_runtime": "maybe"}, lambda cell: {})
    with pytest.raises(TableFormatError, match="signature_kind 'adhock' is not one of unsigned, adhoc"):
        row_target({"name": "x", "entitlements": "", "signature_kind": "adhock"}, lambda cell: {})


def test_cli_says_which_option_is_wrong(cli) -> None:
    proc = cli("check", "--entitlement", "x", "--runtime", "nope")
    assert proc.returncode == 2 and "--module" not in proc.stderr and "runtime 'nope' is not one of" in proc.stderr
