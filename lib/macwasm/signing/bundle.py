"""Walk an ``.app`` (``.appex``, ``.systemextension``, ``.dext``, ``.xpc``) bundle into signing facts.

A bundle answers three questions for macwasm: what does its main executable's signature claim,
what other code is nested in it and in which *role* (a network system extension may use no
relaxation but allow-jit, an XPC service may use any), and where do its ``.wasm`` modules sit
(data under ``Contents/Resources`` is sealed like any resource; a module in a code location such
as ``Contents/MacOS`` breaks Apple's layout rules).

Safety, because a bundle is a tree a stranger built:

* Symlinks are never followed while walking. A link whose target leaves the bundle (``-> /``),
  a loop, or a dangling link is reported as a note and skipped; a file the bundle *needs*
  (Info.plist, an executable) is read through a link only when its real path stays inside.
* Files walked, folder depth, bundle nesting and nested items are capped (``BUNDLE_*`` in
  :mod:`macwasm.limits`); a cap hit raises :class:`BundleError` with ``category="limit"``.
* Files are opened read-only (``open_readonly``); ``.wasm`` files are classified from their first
  8 bytes only, so a huge module costs one small read.

A nested item whose executable is missing, is not Mach-O or is malformed is reported in its
``NestedCode.error``; the walk goes on. A bundle without an Info.plist is not a bundle:
:class:`BundleError` naming the path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from macwasm.errors import LIMIT, BundleError, MacwasmError
from macwasm.inputs import open_readonly
from macwasm.limits import (
    BUNDLE_MAX_DIR_DEPTH,
    BUNDLE_MAX_EXECUTABLE_SIZE,
    BUNDLE_MAX_FILES,
    BUNDLE_MAX_NESTED_ITEMS,
    BUNDLE_MAX_NESTING,
    BUNDLE_MAX_NOTES,
    PLIST_MAX_SIZE,
    PROFILE_MAX_SIZE,
)
from macwasm.signing.macho import is_macho, read_macho, slice_disagreements
from macwasm.signing.model import NestedCode, ProfileFacts, SigningFacts, SliceFacts, WasmFileFacts
from macwasm.signing.plist import load_plist
from macwasm.signing.profile import read_profile
from macwasm.signing.roles import code_locations, is_code_location, resolve_role

#: folder names that make a directory a bundle of its own (a nested bundle or the input itself)
BUNDLE_EXTENSIONS = (".app", ".appex", ".systemextension", ".dext", ".xpc", ".framework", ".bundle", ".plugin",
                     ".qlgenerator", ".mdimporter", ".action", ".kext")
PROFILE_NAMES = ("embedded.provisionprofile", "embedded.mobileprovision")
WASM_SUFFIX = ".wasm"
RESOURCES, CODE, OTHER = "resources", "code", "other"


@dataclass(frozen=True)
class BundleLimits:
    """The caps one read uses (the ``BUNDLE_*`` constants unless a caller, e.g. a test, asks for less)."""

    max_files: int = BUNDLE_MAX_FILES
    max_dir_depth: int = BUNDLE_MAX_DIR_DEPTH
    max_nesting: int = BUNDLE_MAX_NESTING
    max_nested_items: int = BUNDLE_MAX_NESTED_ITEMS
    max_notes: int = BUNDLE_MAX_NOTES


@dataclass
class _Ctx:
    display: str  # the input path as the user gave it (errors name it)
    root: str  # real path of the bundle being read
    limits: BundleLimits
    notes: list[str] = field(default_factory=list)
    notes_dropped: int = 0
    nested: list[NestedCode] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < self.limits.max_notes:
            self.notes.append(text)
        else:
            self.notes_dropped += 1

    def shown(self, real: str) -> str:
        """A path inside the bundle as ``<input>/<relative>`` for messages."""
        rel = os.path.relpath(real, self.root)
        return self.display if rel == "." else os.path.join(self.display, rel)

    def rel(self, real: str) -> str:
        return os.path.relpath(real, self.root).replace(os.sep, "/")


@dataclass
class _Item:
    """What one bundle (the input or a nested one) says about its main executable."""

    info: dict[str, Any]
    bundle_id: str | None
    slices: list[SliceFacts]
    notes: list[str]
    profile: ProfileFacts | None
    has_profile: bool
    error: str | None


def looks_like_bundle(path: str | os.PathLike[str]) -> bool:
    """A folder we read as a bundle: a bundle extension, or ``Contents/Info.plist`` inside."""
    name = os.fspath(path)
    if not os.path.isdir(name):
        return False
    if name.rstrip("/").lower().endswith(BUNDLE_EXTENSIONS):
        return True
    return os.path.isfile(os.path.join(name, "Contents", "Info.plist"))


def read_bundle(path: str | os.PathLike[str], *, limits: BundleLimits | None = None) -> SigningFacts:
    """Signing facts of a bundle folder: main executable, nested code with roles, profile, wasm files."""
    display = os.fspath(path)
    if not os.path.isdir(display):
        raise BundleError("not a folder, so not a bundle", path=display)
    ctx = _Ctx(display=display, root=os.path.realpath(display), limits=limits or BundleLimits())
    wasm_files = _walk(ctx)
    name = os.path.basename(ctx.root)
    item = _read_item(ctx, ctx.root, nesting=0, required=True)
    entitlements = item.slices[0].entitlements if item.slices else None
    role, _ = resolve_role(name, "", item.info, entitlements or {}, is_bundle=True)
    notes = item.notes + ctx.notes
    if ctx.notes_dropped:
        notes.append(f"{ctx.notes_dropped} more notes not shown (limit {ctx.limits.max_notes})")
    return SigningFacts(
        path=display,
        source="bundle",
        entitlements=entitlements,
        signature=item.slices[0].signature if item.slices else None,
        slices=item.slices,
        nested=ctx.nested,
        wasm_files=wasm_files,
        profile=item.profile,
        bundle_id=item.bundle_id,
        role=role,
        notes=notes,
        error=item.error,
    )


# ------------------------------------------------------------------------------------ the walk


def _walk(ctx: _Ctx) -> list[WasmFileFacts]:
    """One bounded pass over the whole tree: count entries, check symlinks, find ``.wasm`` files."""
    found: list[WasmFileFacts] = []
    count = 0
    stack: list[tuple[str, int]] = [(ctx.root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            ctx.note(f"{ctx.rel(folder)}: cannot list folder ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            count += 1
            if count > ctx.limits.max_files:
                raise BundleError(f"more than {ctx.limits.max_files} files and folders; not read further",
                                  path=ctx.display, category=LIMIT)
            try:
                if entry.is_symlink():
                    _check_symlink(ctx, entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    if depth + 1 > ctx.limits.max_dir_depth:
                        raise BundleError(f"folders nest more than {ctx.limits.max_dir_depth} levels deep "
                                          f"(at {ctx.rel(entry.path)})", path=ctx.display, category=LIMIT)
                    subfolders.append(entry.path)
                elif entry.name.lower().endswith(WASM_SUFFIX) and entry.is_file(follow_symlinks=False):
                    found.append(_wasm_file(ctx, entry.path))
            except OSError as exc:
                ctx.note(f"{ctx.rel(entry.path)}: cannot read ({exc.strerror or exc})")
        stack.extend((sub, depth + 1) for sub in reversed(subfolders))
    return sorted(found, key=lambda w: w.path)


def _check_symlink(ctx: _Ctx, link: str) -> None:
    """Report a link that leaves the bundle, loops or dangles. Links are never walked either way."""
    rel = ctx.rel(link)
    try:
        target = os.readlink(link)
    except OSError:
        target = "?"
    try:
        real = os.path.realpath(link, strict=True)
    except OSError as exc:
        if exc.errno == 40 or "symbolic links" in str(exc):  # ELOOP
            ctx.note(f"{rel}: symlink loop (-> {target}); not followed")
        else:
            ctx.note(f"{rel}: dangling symlink (-> {target})")
        return
    if not _inside(ctx.root, real):
        ctx.note(f"{rel}: symlink points outside the bundle (-> {target}); not followed")


def _inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _wasm_file(ctx: _Ctx, path: str) -> WasmFileFacts:
    # imported here: the wasm package costs ~40 ms to import and most inputs hold no .wasm file
    from macwasm.wasm.header import classify_header

    rel = ctx.rel(path)
    location = wasm_location(rel)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return WasmFileFacts(rel, location, "error", "not a regular file")
            first8 = os.read(fd, 8)
        finally:
            os.close(fd)
    except OSError as exc:
        return WasmFileFacts(rel, location, "error", exc.strerror or str(exc))
    return WasmFileFacts(rel, location, classify_header(first8).kind)


def wasm_location(relative: str) -> str:
    """``resources``, ``code`` or ``other`` for a file, judged inside the innermost bundle holding it.

    ``Contents/Resources/...`` is data; ``Contents/MacOS``, ``Contents/Frameworks``, ``Contents/PlugIns``,
    ``Contents/Library/*`` ... are code locations (``data/product_roles.csv``). In a framework,
    ``[Versions/X/]Resources`` is data and everything else sits next to the library's code.
    """
    parts = relative.split("/")
    start = 0
    kind = ""
    for i, part in enumerate(parts[:-1]):
        lower = part.lower()
        if lower.endswith(BUNDLE_EXTENSIONS):
            start, kind = i + 1, lower[lower.rfind("."):]
    rest = parts[start:]
    if kind == ".framework":
        if len(rest) >= 3 and rest[0] == "Versions":
            rest = rest[2:]
        return RESOURCES if len(rest) > 1 and rest[0] == "Resources" else CODE
    if len(rest) > 1 and rest[0] == "Contents":
        inner = rest[1:]
        if len(inner) > 1 and inner[0] == "Resources":
            return RESOURCES
        if len(inner) > 1 and is_code_location("/".join(inner[:-1])):
            return CODE
        return OTHER
    if len(rest) > 1 and is_code_location("/".join(rest[:-1])):  # shallow bundle
        return CODE
    return OTHER


# ---------------------------------------------------------------------------------- one bundle


def _layout(folder: str) -> tuple[str, str, str]:
    """``(info_plist, executable_folder, contents_folder)`` for a deep, shallow or framework bundle."""
    deep = os.path.join(folder, "Contents")
    if os.path.isdir(deep) and not os.path.islink(deep):
        return os.path.join(deep, "Info.plist"), os.path.join(deep, "MacOS"), deep
    if folder.lower().endswith(".framework"):
        for res in (os.path.join(folder, "Resources"), os.path.join(folder, "Versions", "Current", "Resources")):
            if os.path.exists(os.path.join(res, "Info.plist")):
                return os.path.join(res, "Info.plist"), os.path.dirname(res), folder
        return os.path.join(folder, "Resources", "Info.plist"), folder, folder
    return os.path.join(folder, "Info.plist"), folder, folder


def _read_item(ctx: _Ctx, folder: str, *, nesting: int, required: bool) -> _Item:
    """Read one bundle's Info.plist, main executable, profile; append its nested code to ``ctx.nested``."""
    info_path, exe_folder, contents = _layout(folder)
    notes: list[str] = []
    info: dict[str, Any] = {}
    info_error = None
    if required and not os.path.lexists(info_path):
        raise BundleError("no Contents/Info.plist (nor Info.plist): not a bundle, or an incomplete one",
                          path=ctx.display)
    try:
        info = _read_info(ctx, info_path)
    except MacwasmError as err:
        if required:
            raise
        info_error = err.message
    exe_name = info.get("CFBundleExecutable")
    if not exe_name and folder.lower().endswith(".framework"):
        exe_name = os.path.splitext(os.path.basename(folder))[0]
    slices: list[SliceFacts] = []
    error = info_error
    exe_path = None
    if error is None:
        if not isinstance(exe_name, str) or not exe_name or "/" in exe_name or exe_name in (".", ".."):
            error = f"{ctx.rel(info_path)}: CFBundleExecutable is missing or not a plain file name"
        else:
            exe_path = os.path.join(exe_folder, exe_name)
            if folder.lower().endswith(".framework") and not os.path.lexists(exe_path):
                exe_path = os.path.join(folder, "Versions", "Current", exe_name)
            try:
                slices = _read_executable(ctx, exe_path)
                notes.extend(f"{ctx.rel(exe_path)}: {n}" for n in slice_disagreements(slices))
            except MacwasmError as err:
                error = err.message
    profile, has_profile = None, False
    for profile_name in PROFILE_NAMES:
        candidate = os.path.join(contents, profile_name)
        if os.path.lexists(candidate):
            has_profile = True
            try:
                profile = _read_profile(ctx, candidate)
            except MacwasmError as err:
                notes.append(err.message)
            break
    bundle_id = info.get("CFBundleIdentifier")
    _nested_code(ctx, contents, main_executable=exe_path, nesting=nesting)
    return _Item(info, bundle_id if isinstance(bundle_id, str) else None, slices, notes, profile, has_profile, error)


def _nested_code(ctx: _Ctx, contents: str, *, main_executable: str | None, nesting: int) -> None:
    """Every piece of code in this bundle's code locations, recursing into nested bundles."""
    for location in code_locations():
        folder = os.path.join(contents, *location.split("/"))
        if os.path.islink(folder) or not os.path.isdir(folder):
            continue
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            ctx.note(f"{ctx.rel(folder)}: cannot list folder ({exc.strerror or exc})")
            continue
        for entry in entries:
            if entry.is_symlink():
                continue  # reported by the walk when it leaves the bundle; never followed
            if main_executable and os.path.realpath(entry.path) == os.path.realpath(main_executable):
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name.lower().endswith(BUNDLE_EXTENSIONS) or _has_info_plist(entry.path):
                    _nested_bundle(ctx, entry.path, location, nesting + 1)
            elif entry.is_file(follow_symlinks=False) and starts_like_macho(entry.path):
                _nested_file(ctx, entry.path, location)


def _add_nested(ctx: _Ctx, item: NestedCode) -> None:
    if len(ctx.nested) >= ctx.limits.max_nested_items:
        raise BundleError(f"more than {ctx.limits.max_nested_items} nested code items; not read further",
                          path=ctx.display, category=LIMIT)
    ctx.nested.append(item)


def _nested_bundle(ctx: _Ctx, folder: str, location: str, nesting: int) -> None:
    if nesting > ctx.limits.max_nesting:
        raise BundleError(f"bundles nest more than {ctx.limits.max_nesting} levels deep (at {ctx.rel(folder)})",
                          path=ctx.display, category=LIMIT)
    position = len(ctx.nested)
    _add_nested(ctx, NestedCode(ctx.rel(folder), "app", None, None))  # placeholder keeps parents before children
    item = _read_item(ctx, folder, nesting=nesting, required=False)
    entitlements = item.slices[0].entitlements if item.slices else None
    role, _ = resolve_role(os.path.basename(folder), location, item.info, entitlements or {}, is_bundle=True)
    for note in item.notes:
        ctx.note(note)
    ctx.nested[position] = NestedCode(
        path=ctx.rel(folder), role=role, entitlements=entitlements,
        signature=item.slices[0].signature if item.slices else None,
        bundle_id=item.bundle_id, has_profile=item.has_profile, error=item.error,
    )


def _nested_file(ctx: _Ctx, path: str, location: str) -> None:
    slices: list[SliceFacts] = []
    error = None
    try:
        slices = _read_executable(ctx, path)
        for note in slice_disagreements(slices):
            ctx.note(f"{ctx.rel(path)}: {note}")
    except MacwasmError as err:
        error = err.message
    entitlements = slices[0].entitlements if slices else None
    role, _ = resolve_role(os.path.basename(path), location, None, entitlements or {})
    _add_nested(ctx, NestedCode(ctx.rel(path), role, entitlements, slices[0].signature if slices else None,
                                error=error))


def _has_info_plist(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "Contents", "Info.plist")) or os.path.isfile(
        os.path.join(folder, "Info.plist"))


def starts_like_macho(path: str) -> bool:
    """A regular file (not followed through a link, never blocking on a FIFO) whose first bytes are Mach-O."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            return stat.S_ISREG(os.fstat(fd).st_mode) and is_macho(os.read(fd, 8))
        finally:
            os.close(fd)
    except OSError:
        return False


# ----------------------------------------------------------------------------------- the files


def _resolve(ctx: _Ctx, path: str, what: str) -> str:
    """The real path of a file the bundle needs, refusing links that leave the bundle or loop."""
    if not os.path.lexists(path):
        raise BundleError(f"{what} is missing", path=ctx.shown(path))
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        raise BundleError(f"{what} cannot be resolved ({exc.strerror or exc}); symlink not followed",
                          path=ctx.shown(path)) from None
    if not _inside(ctx.root, real):
        raise BundleError(f"{what} is a symlink to {real}, outside the bundle; not followed", path=ctx.shown(path))
    return real


def _read_bytes(ctx: _Ctx, path: str, what: str, max_size: int, use: Callable[[Any], Any]) -> Any:
    real = _resolve(ctx, path, what)
    with open_readonly(real, max_size=max_size) as data:
        return use(data)


def _read_info(ctx: _Ctx, path: str) -> dict[str, Any]:
    shown = ctx.shown(path)
    value, _ = _read_bytes(ctx, path, "Info.plist", PLIST_MAX_SIZE, lambda d: load_plist(d, path=shown))
    if not isinstance(value, dict):
        raise BundleError("Info.plist does not hold a dictionary", path=shown, offset=0)
    return value


def _read_profile(ctx: _Ctx, path: str) -> ProfileFacts:
    shown = ctx.shown(path)
    return _read_bytes(ctx, path, "provisioning profile", PROFILE_MAX_SIZE, lambda d: read_profile(d, path=shown))


def _read_executable(ctx: _Ctx, path: str) -> list[SliceFacts]:
    """The slices of a Mach-O the bundle names; a missing or non-Mach-O file raises with the path."""
    shown = ctx.shown(path)

    def use(data: Any) -> list[SliceFacts]:
        if not is_macho(bytes(data[:8])):
            raise BundleError(f"executable is not a Mach-O file (starts with {bytes(data[:4]).hex() or 'nothing'})",
                              path=shown, offset=0)
        return read_macho(data, path=shown)

    return _read_bytes(ctx, path, "executable", BUNDLE_MAX_EXECUTABLE_SIZE, use)
