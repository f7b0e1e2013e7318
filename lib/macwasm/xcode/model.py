"""What an Xcode project says about each target in each build configuration, as plain values.

``None`` means "the project does not tell" (an unresolved setting, a missing file); ``notes`` says
why, so that the policy layer can report it instead of guessing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: note kinds (the vocabulary the rules MW180-MW189 read from a target's build notes)
UNRESOLVED_VARIABLE = "unresolved-variable"  # a setting refers to a variable nothing in the project defines
BUILD_LOCATION = "build-location"  # a setting points into the build folder (made by a build phase or CI)
UNSUPPORTED_SETTING = "unsupported-setting"  # an operator we do not know, a self-reference
MISSING_FILE = "missing-file"  # the entitlements file or a required xcconfig include is not in the checkout
OPTIONAL_INCLUDE_MISSING = "optional-include-missing"  # #include? of a file that is not there
BAD_ENTITLEMENTS = "bad-entitlements"  # the entitlements file is not a readable plist
ENGINE = "engine"  # a linked framework or package product names a wasm engine
WASM_DESTINATION_UNKNOWN = "wasm-destination-unknown"  # a copy phase puts a .wasm somewhere we cannot place
NOTE_KINDS = (UNRESOLVED_VARIABLE, BUILD_LOCATION, UNSUPPORTED_SETTING, MISSING_FILE, OPTIONAL_INCLUDE_MISSING,
              BAD_ENTITLEMENTS, ENGINE, WASM_DESTINATION_UNKNOWN)


@dataclass(frozen=True)
class Note:
    kind: str
    setting: str  # the build setting (or phase / directive) it is about
    detail: str  # the variable, path, engine or reason
    subject: str | None = None  # the file it is written in (display path)
    line: int | None = None


@dataclass(frozen=True)
class Embedding:
    host: str  # target name
    embedded: str  # target name
    bundle_path: str  # where in the host's bundle, e.g. Contents/Library/SystemExtensions
    phase: str  # the copy phase's name


@dataclass(frozen=True)
class EngineUse:
    engine: str
    runtime: str
    rank: int
    linked_as: str  # "framework libwasmtime.a", "Swift package product WasmKit"
    via: str | None = None  # the target whose product carries it (a framework target this one links)


@dataclass(frozen=True)
class WasmCopy:
    source: str  # display path of the file in the checkout
    bundle_path: str  # where it lands in the product (Contents/Resources/x.wasm); "" when unknown
    location: str  # resources | code | other
    kind: str  # core-module | component | unknown-version | not-wasm | error (unreadable or missing)
    phase: str


@dataclass(frozen=True)
class TargetConfig:
    """One native target built in one configuration."""

    project: str  # display path of the .xcodeproj
    pbxproj: str  # display path of its project.pbxproj
    target: str
    configuration: str
    xcode_product_type: str
    product_type: str | None  # ours; None when the table does not know the Xcode product type
    product_type_basis: str
    product_file: str | None
    entitlements_path: str | None  # display path of the resolved .entitlements file
    entitlements: dict[str, Any] | None  # None: no file, or it could not be read
    hardened_runtime: bool | None
    hardened_runtime_basis: str
    sign_style: str | None
    team: str | None
    sign_identity: str | None
    bundle_id: str | None
    embedded_in: tuple[Embedding, ...] = ()
    embeds: tuple[Embedding, ...] = ()
    dependencies: tuple[str, ...] = ()
    engines: tuple[EngineUse, ...] = ()
    wasm: tuple[WasmCopy, ...] = ()
    notes: tuple[Note, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.project} [{self.target}] ({self.configuration})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class XcodeProjectFacts:
    path: str  # display path of the .xcodeproj
    configurations: tuple[str, ...]
    targets: tuple[TargetConfig, ...]  # grouped by target, then configuration, in the project's order
    skipped: tuple[tuple[str, str], ...] = ()  # (target, Xcode product type) not judged (tests, static libraries)
