"""Walk an ``.app`` (``.appex``, ``.systemextension``, ``.dext``, ``.xpc``, ``.framework``) bundle into signing facts.

A bundle answers three questions for macwasm: what does its main executable's signature claim,
what other code is nested in it and in which *role* (a network system extension may use no
relaxation but allow-jit, an XPC service may use any), and where do its ``.wasm`` modules sit
(data under ``Contents/Resources`` is sealed like any resource; a module in a code location such
as ``Contents/MacOS`` breaks Apple's layout rules).

The walk runs over a :class:`~macwasm.artifacts.tree.Tree`: a real folder (:func:`read_bundle`) or
a bundle inside a ``.zip`` or ``.pkg`` (:func:`read_bundle_tree`), so both get the same answers.

Safety, because a bundle is a tree a stranger built:

* Symlinks are never followed while walking. A link whose target leaves the bundle (``-> /``),
  a loop, or a dangling link is reported as a note and skipped; a file the bundle *needs*
  (Info.plist, an executable) is read through a link only when its real path stays inside.
* Files walked, folder depth, bundle nesting and nested items are capped (``BUNDLE_*`` in
  :mod:`macwasm.limits`); a cap hit raises :class:`BundleError` with ``category="limit"``.
* Files are opened read-only (``open_readonly``, ``O_NOFOLLOW``); ``.wasm`` files are classified
  from their first 8 bytes only, so a huge module costs one small read.

Real layouts: a framework installed from a wheel has ``Versions/A/<exe>`` and no ``Versions/Current``
link (wheels cannot hold symlinks); the executable is found in the one version present (or the
version whose ``Resources/Info.plist`` names an executable that is there) and the missing link is
a note, not an error.

A nested item whose executable is missing, is not Mach-O or is malformed is reported in its
``NestedCode.error`` with ``signature=None``; the walk goes on. For the input itself the same
goes to ``SigningFacts.error``. A missing executable's error ends with :data:`EXECUTABLE_MISSING`
(:func:`executable_missing` tells it), so the policy can report that one fault and nothing about the
signature the missing file cannot have. A bundle without an Info.plist is not a bundle:
:class:`BundleError` naming the path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from macwasm.artifacts.tree import DIR, FILE, LINK, DiskTree, LinkError, NotRegularFile, Tree, basename, join
from macwasm.errors import LIMIT, BundleError, MacwasmError
from macwasm.inputs import is_not_code_folder
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
from macwasm.signing.roles import code_locations, is_code_location, resolve_role

T = TypeVar("T")

#: folder names that make a directory a bundle of its own (a nested bundle or the input itself)
BUNDLE_EXTENSIONS = (".app", ".appex", ".systemextension", ".dext", ".xpc", ".framework", ".bundle", ".plugin",
                     ".qlgenerator", ".mdimporter", ".action", ".kext")
PROFILE_NAMES = ("embedded.provisionprofile", "embedded.mobileprovision")
WASM_SUFFIX = ".wasm"
RESOURCES, CODE, OTHER = "resources", "code", "other"
#: the end of the error of a bundle (or nested item) whose main executable is not there
EXECUTABLE_MISSING = "executable is missing"
FRAMEWORK = ".framework"


def executable_missing(error: str | None) -> bool:
    """Whether a ``SigningFacts.error`` / ``NestedCode.error`` says the executable is not there (and nothing else)."""
    return error is not None and error.endswith(EXECUTABLE_MISSING)


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
    tree: Tree  # rooted at the bundle being read; paths below are relative to it
    limits: BundleLimits
    notes: list[str] = field(default_factory=list)
    notes_dropped: int = 0
    nested: list[NestedCode] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.tree.display

    def note(self, text: str) -> None:
        if len(self.notes) < self.limits.max_notes:
            self.notes.append(text)
        else:
            self.notes_dropped += 1

    def shown(self, path: str) -> str:
        """A path inside the bundle as ``<input>/<relative>`` for messages."""
        return self.tree.shown(path)


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


def looks_like_bundle_in(tree: Tree, path: str) -> bool:
    """:func:`looks_like_bundle` for a folder of a tree (links are not followed to find the folder)."""
    if not tree.is_dir(path):
        return False
    return path.lower().endswith(BUNDLE_EXTENSIONS) or tree.is_file(join(path, "Contents", "Info.plist"), follow=True)


def read_bundle(path: str | os.PathLike[str], *, limits: BundleLimits | None = None) -> SigningFacts:
    """Signing facts of a bundle folder: main executable, nested code with roles, profile, wasm files."""
    display = os.fspath(path)
    if not os.path.isdir(display):
        raise BundleError("not a folder, so not a bundle", path=display)
    tree = DiskTree(display)
    return read_bundle_tree(tree, limits=limits, name=os.path.basename(tree.root))


def read_bundle_tree(tree: Tree, *, limits: BundleLimits | None = None, name: str | None = None) -> SigningFacts:
    """:func:`read_bundle` for a tree rooted at the bundle (``tree.display`` names it in facts and errors).

    Raises only :class:`BundleError`: a fault of the Info.plist it needs (the plist reader's), of a
    file it cannot open, or of the artifact the tree is read from, is wrapped with its path, offset
    and category.
    """
    try:
        return _read_bundle_tree(tree, limits, name)
    except MacwasmError as err:
        raise BundleError.wrap(err) from None


def _read_bundle_tree(tree: Tree, limits: BundleLimits | None, name: str | None) -> SigningFacts:
    ctx = _Ctx(tree=tree, limits=limits or BundleLimits())
    name = name or basename(tree.display.rstrip("/"))
    wasm_files = _walk(ctx)
    item = _read_item(ctx, "", name, nesting=0, required=True)
    entitlements = item.slices[0].entitlements if item.slices else None
    role, _ = resolve_role(name, "", item.info, entitlements or {}, is_bundle=True)
    notes = item.notes + ctx.notes
    if ctx.notes_dropped:
        notes.append(f"{ctx.notes_dropped} more notes not shown (limit {ctx.limits.max_notes})")
    return SigningFacts(
        path=tree.display,
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
    stack: list[tuple[str, int]] = [("", 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = ctx.tree.listdir(folder)
        except OSError as exc:
            ctx.note(f"{folder or '.'}: cannot list folder ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            count += 1
            if count > ctx.limits.max_files:
                raise BundleError(f"more than {ctx.limits.max_files} files and folders; not read further",
                                  path=ctx.display, category=LIMIT)
            if entry.kind == LINK:
                _check_symlink(ctx, entry.path)
            elif entry.kind == DIR:
                if depth + 1 > ctx.limits.max_dir_depth:
                    raise BundleError(f"folders nest more than {ctx.limits.max_dir_depth} levels deep "
                                      f"(at {entry.path})", path=ctx.display, category=LIMIT)
                subfolders.append(entry.path)
            elif entry.kind == FILE and entry.name.lower().endswith(WASM_SUFFIX):
                found.append(_wasm_file(ctx, entry.path))
        stack.extend((sub, depth + 1) for sub in reversed(subfolders))
    return sorted(found, key=lambda w: w.path)


def _check_symlink(ctx: _Ctx, link: str) -> None:
    """Report a link that leaves the bundle, loops or dangles. Links are never walked either way."""
    try:
        ctx.tree.resolve(link)
    except LinkError as err:
        if err.kind == "loop":
            ctx.note(f"{link}: symlink loop (-> {err.target}); not followed")
        elif err.kind == "outside":
            ctx.note(f"{link}: symlink points outside the bundle (-> {err.target}); not followed")
        else:
            ctx.note(f"{link}: dangling symlink (-> {err.target})")


def _wasm_file(ctx: _Ctx, path: str) -> WasmFileFacts:
    # imported here: the wasm package costs ~40 ms to import and most inputs hold no .wasm file
    from macwasm.wasm.header import classify_header

    location = wasm_location(path)
    try:
        first8 = ctx.tree.head(path, 8)
    except NotRegularFile:
        return WasmFileFacts(path, location, "error", "not a regular file")
    except OSError as exc:
        return WasmFileFacts(path, location, "error", exc.strerror or str(exc))
    except MacwasmError as err:
        return WasmFileFacts(path, location, "error", err.reason)
    return WasmFileFacts(path, location, classify_header(first8).kind)


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
    if kind == FRAMEWORK:
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


@dataclass
class _Layout:
    info_plist: str
    exe_folders: list[str]  # where the main executable may sit, in the order tried
    code_roots: list[str]  # folders whose code locations (MacOS, Helpers, Frameworks, ...) hold nested code
    contents: str  # where an embedded profile sits
    notes: list[str] = field(default_factory=list)


def _layout(ctx: _Ctx, folder: str, name: str) -> _Layout:
    """Where Info.plist, the executable and nested code sit in a deep, shallow or framework bundle."""
    tree = ctx.tree
    deep = join(folder, "Contents")
    if tree.is_dir(deep):
        return _Layout(join(deep, "Info.plist"), [join(deep, "MacOS")], [deep], deep)
    if name.lower().endswith(FRAMEWORK):
        return _framework_layout(ctx, folder, name)
    return _Layout(join(folder, "Info.plist"), [folder], [folder], folder)


def _framework_layout(ctx: _Ctx, folder: str, name: str) -> _Layout:
    """``Resources/Info.plist`` and the executable at the top (links into ``Versions/Current``), or in a version.

    Frameworks from wheels have no ``Versions/Current`` (and no top-level links): their executable
    is in ``Versions/<X>``. With several versions and no ``Current``, the version whose
    ``Resources/Info.plist`` names an executable present in it is read (the last such, by name).
    """
    tree = ctx.tree
    versions = join(folder, "Versions")
    current = join(versions, "Current")
    version: str | None = None
    notes: list[str] = []
    if tree.lexists(current):
        version = current
    elif tree.is_dir(versions):
        try:
            present = [e.name for e in tree.listdir(versions) if e.kind == DIR]
        except OSError:
            present = []
        if len(present) == 1:
            version = join(versions, present[0])
            notes.append(f"{current}: missing (a framework installed from a wheel, which cannot hold symlinks); "
                         f"the executable is read from {version}")
        elif present:
            version = _pick_version(ctx, versions, present, name)
            notes.append(f"{current}: missing and {len(present)} versions present ({', '.join(present)}); "
                         f"read {version}, whose Resources/Info.plist names an executable that is there")
    top_info = join(folder, "Resources", "Info.plist")
    info = top_info
    if not tree.is_file(top_info, follow=True) and version is not None:
        for candidate in (join(version, "Resources", "Info.plist"), join(version, "Info.plist")):
            if tree.is_file(candidate, follow=True):
                info = candidate
                break
    exe_folders = [folder] + ([version] if version else [])
    code_roots = [folder] + ([version] if version and version != current else [])
    if version == current:
        try:
            real = tree.resolve(current)
            if real.startswith(folder + "/") or not folder:
                code_roots.append(real)
        except LinkError:
            pass
    return _Layout(info, exe_folders, code_roots, folder, notes)


def _pick_version(ctx: _Ctx, versions: str, present: list[str], name: str) -> str:
    tree = ctx.tree
    chosen = join(versions, present[-1])
    for version in present:
        folder = join(versions, version)
        info_path = join(folder, "Resources", "Info.plist")
        exe = os.path.splitext(name)[0]
        if tree.is_file(info_path, follow=True):
            try:
                value = _read_info(ctx, info_path).get("CFBundleExecutable")
                exe = value if isinstance(value, str) and value else exe
            except MacwasmError:
                continue
        if tree.is_file(join(folder, exe), follow=True):
            chosen = folder
    return chosen


def _read_item(ctx: _Ctx, folder: str, name: str, *, nesting: int, required: bool) -> _Item:
    """Read one bundle's Info.plist, main executable, profile; append its nested code to ``ctx.nested``."""
    layout = _layout(ctx, folder, name)
    tree = ctx.tree
    notes: list[str] = []
    for note in layout.notes:
        ctx.note(note)
    info: dict[str, Any] = {}
    info_error = None
    if required and not tree.lexists(layout.info_plist):
        raise BundleError("no Contents/Info.plist (nor Info.plist): not a bundle, or an incomplete one",
                          path=ctx.display)
    try:
        info = _read_info(ctx, layout.info_plist)
    except MacwasmError as err:
        if required:
            raise
        info_error = err.message
    exe_name = info.get("CFBundleExecutable")
    if not exe_name and name.lower().endswith(FRAMEWORK):
        exe_name = os.path.splitext(name)[0]
    slices: list[SliceFacts] = []
    error = info_error
    exe_path = None
    if error is None:
        if not isinstance(exe_name, str) or not exe_name or "/" in exe_name or exe_name in (".", ".."):
            error = f"{layout.info_plist}: CFBundleExecutable is missing or not a plain file name"
        else:
            candidates = [join(f, exe_name) for f in layout.exe_folders]
            exe_path = next((c for c in candidates if tree.lexists(c)), candidates[0])
            try:
                slices = _read_executable(ctx, exe_path)
                notes.extend(f"{exe_path}: {n}" for n in slice_disagreements(slices))
            except MacwasmError as err:
                error = err.message
    profile, has_profile = None, False
    for profile_name in PROFILE_NAMES:
        candidate = join(layout.contents, profile_name)
        if tree.lexists(candidate):
            has_profile = True
            try:
                profile = _read_profile(ctx, candidate)
            except MacwasmError as err:
                notes.append(err.message)
            break
    bundle_id = info.get("CFBundleIdentifier")
    main_real = _real_or_none(tree, exe_path) if exe_path else None
    for root in layout.code_roots:
        _nested_code(ctx, root, main_executable=main_real, nesting=nesting)
    return _Item(info, bundle_id if isinstance(bundle_id, str) else None, slices, notes, profile, has_profile, error)


def _real_or_none(tree: Tree, path: str) -> str | None:
    try:
        return tree.resolve(path)
    except LinkError:
        return None


def _nested_code(ctx: _Ctx, contents: str, *, main_executable: str | None, nesting: int) -> None:
    """Every piece of code in this bundle's code locations, recursing into nested bundles."""
    tree = ctx.tree
    listings: dict[str, dict[str, str]] = {}

    def kinds(folder: str) -> dict[str, str]:
        if folder not in listings:
            try:
                listings[folder] = {e.name: e.kind for e in tree.listdir(folder)}
            except OSError:
                listings[folder] = {}
        return listings[folder]

    for location in code_locations():
        parts = location.split("/")
        folder = contents
        for part in parts:  # one listing per folder instead of a stat per code location
            if kinds(folder).get(part) != DIR:
                break  # absent, a file, or a link (reported by the walk when it leaves the bundle; never followed)
            folder = join(folder, part)
        if folder != join(contents, *parts):
            continue
        try:
            entries = tree.listdir(folder)
        except OSError as exc:
            ctx.note(f"{folder}: cannot list folder ({exc.strerror or exc})")
            continue
        for entry in entries:
            if entry.kind == LINK:
                continue  # reported by the walk when it leaves the bundle; never followed
            if main_executable and entry.path == main_executable:
                continue
            if entry.kind == DIR:
                if is_not_code_folder(entry.name):
                    continue  # debug symbols: not code
                if entry.name.lower().endswith(BUNDLE_EXTENSIONS) or _has_info_plist(tree, entry.path):
                    _nested_bundle(ctx, entry.path, location, nesting + 1)
            elif entry.kind == FILE and _head_is_macho(tree, entry.path):
                _nested_file(ctx, entry.path, location)


def _add_nested(ctx: _Ctx, item: NestedCode) -> None:
    if len(ctx.nested) >= ctx.limits.max_nested_items:
        raise BundleError(f"more than {ctx.limits.max_nested_items} nested code items; not read further",
                          path=ctx.display, category=LIMIT)
    ctx.nested.append(item)


def _nested_bundle(ctx: _Ctx, folder: str, location: str, nesting: int) -> None:
    if nesting > ctx.limits.max_nesting:
        raise BundleError(f"bundles nest more than {ctx.limits.max_nesting} levels deep (at {folder})",
                          path=ctx.display, category=LIMIT)
    position = len(ctx.nested)
    _add_nested(ctx, NestedCode(folder, "app", None, None))  # placeholder keeps parents before children
    name = basename(folder)
    item = _read_item(ctx, folder, name, nesting=nesting, required=False)
    entitlements = item.slices[0].entitlements if item.slices else None
    role, _ = resolve_role(name, location, item.info, entitlements or {}, is_bundle=True)
    for note in item.notes:
        ctx.note(note)
    ctx.nested[position] = NestedCode(
        path=folder, role=role, entitlements=entitlements,
        signature=item.slices[0].signature if item.slices else None,
        bundle_id=item.bundle_id, has_profile=item.has_profile, error=item.error,
    )


def _nested_file(ctx: _Ctx, path: str, location: str) -> None:
    slices: list[SliceFacts] = []
    error = None
    try:
        slices = _read_executable(ctx, path)
        for note in slice_disagreements(slices):
            ctx.note(f"{path}: {note}")
    except MacwasmError as err:
        error = err.message
    entitlements = slices[0].entitlements if slices else None
    role, _ = resolve_role(basename(path), location, None, entitlements or {})
    _add_nested(ctx, NestedCode(path, role, entitlements, slices[0].signature if slices else None, error=error))


def _has_info_plist(tree: Tree, folder: str) -> bool:
    return tree.is_file(join(folder, "Contents", "Info.plist"), follow=True) or tree.is_file(
        join(folder, "Info.plist"), follow=True)


def _head_is_macho(tree: Tree, path: str) -> bool:
    try:
        return is_macho(tree.head(path, 8))
    except (OSError, MacwasmError):
        return False


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
    if not ctx.tree.lexists(path):
        raise BundleError(f"{what} is missing", path=ctx.shown(path))
    try:
        return ctx.tree.resolve(path)
    except LinkError as err:
        if err.kind == "outside":
            raise BundleError(f"{what} is a symlink to {err.real or err.target}, outside the bundle; not followed",
                              path=ctx.shown(path)) from None
        reason = "Too many levels of symbolic links" if err.kind == "loop" else (err.detail or err.kind)
        raise BundleError(f"{what} cannot be resolved ({reason}); symlink not followed",
                          path=ctx.shown(path)) from None


def _read_bytes(ctx: _Ctx, path: str, what: str, max_size: int, use: Callable[[Any], T], *,
                macho: bool = False) -> T:
    real = _resolve(ctx, path, what)
    opener = ctx.tree.open_macho if macho else ctx.tree.open_whole
    with opener(real, max_size) as data:
        return use(data)


def _read_info(ctx: _Ctx, path: str) -> dict[str, Any]:
    shown = ctx.shown(path)
    value, _ = _read_bytes(ctx, path, "Info.plist", PLIST_MAX_SIZE, lambda d: load_plist(d, path=shown))
    if not isinstance(value, dict):
        raise BundleError("Info.plist does not hold a dictionary", path=shown, offset=0)
    return value


def _read_profile(ctx: _Ctx, path: str) -> ProfileFacts:
    from macwasm.signing.profile import read_profile  # asn1crypto costs ~40 ms to import; most bundles hold no profile

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

    return _read_bytes(ctx, path, "executable", BUNDLE_MAX_EXECUTABLE_SIZE, use, macho=True)
