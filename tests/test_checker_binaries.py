"""check on binaries and bundles as they ship: engines found in them, library code, missing executables, arches."""

from __future__ import annotations

import plistlib
from pathlib import Path

from macwasm.policy import check

ENGINES = Path(__file__).resolve().parent / "fixtures" / "macho-engines"
MACHO = Path(__file__).resolve().parent / "fixtures" / "macho"


def test_a_binary_is_judged_with_the_engine_found_in_it_when_no_runtime_is_given() -> None:
    (result,) = check(str(ENGINES / "engines-electron-helper-arm64"))
    assert result.runtimes == ("electron",)
    detected = next(f for f in result.findings if f.rule_id == "MW162")
    assert "Electron Framework" in detected.message and "judged as electron" in detected.message
    assert "MW161" not in result.rule_ids


def test_the_runtime_option_overrides_what_was_found() -> None:
    (result,) = check(str(ENGINES / "engines-electron-helper-arm64"), runtime="wasm3")
    assert result.runtimes == ("wasm3",) and "MW162" not in result.rule_ids


def test_a_binary_without_an_engine_is_not_given_one() -> None:
    (result,) = check(str(ENGINES / "engines-none-arm64"))
    assert result.runtimes == () and "MW161" in result.rule_ids


def test_a_lone_dylib_is_library_code() -> None:
    (result,) = check(str(ENGINES / "engines-libwasmtime-dylib-arm64"))
    assert result.product_type == "framework"
    basis = next(f.message for f in result.findings if f.rule_id == "MW160")
    assert "Mach-O file type" in basis
    assert not {"MW110", "MW111", "MW121"} & set(result.rule_ids)
    assert "check the host executable" in next(f.message for f in result.findings if f.rule_id == "MW162")


def test_a_powerpc_only_file_runs_on_no_current_mac() -> None:
    (result,) = check(str(MACHO / "ppc-only-unsigned"))
    assert "MW127" in result.rule_ids and "MW121" not in result.rule_ids


def test_an_x86_64_only_file_runs_under_rosetta_on_apple_silicon() -> None:
    (result,) = check(str(MACHO / "unsigned-x86_64"))
    assert "MW128" in result.rule_ids
    (intel,) = check(str(MACHO / "unsigned-x86_64"), arch="x86_64")
    assert "MW128" not in intel.rule_ids


def test_a_bundle_whose_executable_is_missing_says_that_first(tmp_path: Path) -> None:
    contents = tmp_path / "Gone.app" / "Contents"
    contents.mkdir(parents=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleExecutable": "Gone",
                                                          "CFBundleIdentifier": "com.example.gone"}))
    (result,) = check(str(tmp_path / "Gone.app"))
    assert result.findings[0].rule_id == "MW126" and "executable is missing" in result.findings[0].message
    assert not {"MW121", "MW122", "MW124"} & set(result.rule_ids)
