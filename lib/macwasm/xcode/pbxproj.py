"""``project.pbxproj`` read with ``openstep_parser`` into typed, bounded facts.

The OpenStep grammar itself is ``openstep_parser``'s job (it is the parser under the ``pbxproj``
package and reads every real project we tried). It is recursive, raises bare ``Exception`` or
``IndexError`` on bad input and knows no caps, so this module does what a reader here must:
it bounds the size before reading, checks nesting and unterminated strings/comments with one
regular-expression pass first (so that the parser can neither recurse past the cap nor run off
the end unexplained), turns every parser failure into :class:`XcodeProjectError` with the byte
offset and line, and then walks the object graph with type checks on every value it uses.

The result keeps only what the checks need: native targets, their build configurations, build
phases and linked products, and the paths of the files those name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from macwasm.errors import LIMIT, InputError, XcodeProjectError
from macwasm.inputs import open_readonly
from macwasm.limits import XCODE_MAX_NESTING, XCODE_MAX_OBJECTS, XCODE_MAX_PBXPROJ_SIZE

PBXPROJ = "project.pbxproj"
#: the isa of the objects whose ``children`` form the file tree
_GROUPS = ("PBXGroup", "PBXVariantGroup", "XCVersionGroup")
#: strings and comments (skipped) and the brackets whose depth is checked; a quote or comment left open
#: matches to the end of the text
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*("?)|/\*.*?(\*/|\Z)|[{}()]', re.S)
_AT_INDEX = re.compile(r"@ (\d+)")


@dataclass(frozen=True)
class FileRef:
    """A file the project names, with its path on disk when the project says where it is."""

    id: str
    name: str  # the file's name (its path's last part)
    path: str | None  # absolute path in the source tree, None when it lies in the SDK or the build folder
    source_tree: str
    file_type: str  # lastKnownFileType / explicitFileType ("folder", "wrapper.framework" ...)


@dataclass(frozen=True)
class BuildFile:
    """One entry of a build phase: a file, another target's product, or a Swift package product."""

    file: FileRef | None
    product_of: str | None  # id of the native target whose product this is
    package_product: str | None  # XCSwiftPackageProductDependency productName


@dataclass(frozen=True)
class BuildPhase:
    isa: str
    name: str
    dst_subfolder_spec: str | None
    dst_path: str
    files: tuple[BuildFile, ...]


@dataclass(frozen=True)
class BuildConfiguration:
    name: str
    settings: Mapping[str, Any]  # values are strings or lists of strings, as Xcode writes them
    base_configuration: FileRef | None  # the .xcconfig it is based on


@dataclass(frozen=True)
class NativeTarget:
    id: str
    name: str
    product_type: str
    product_name: str | None
    product_file: str | None  # the product's file name (productReference), e.g. Filter.systemextension
    configurations: tuple[BuildConfiguration, ...]
    default_configuration: str | None
    phases: tuple[BuildPhase, ...]
    dependencies: tuple[str, ...]  # ids of native targets this one depends on
    package_products: tuple[str, ...]
    synchronized_folders: tuple[tuple[str, frozenset[str]], ...]  # (folder, member paths excluded for it)


@dataclass(frozen=True)
class PbxProject:
    pbxproj: str  # path of project.pbxproj
    xcodeproj: str  # path of the .xcodeproj folder
    name: str
    project_dir: str  # PROJECT_DIR / SRCROOT
    object_version: str
    configurations: tuple[BuildConfiguration, ...]
    default_configuration: str | None
    targets: tuple[NativeTarget, ...]


def read_pbxproj(xcodeproj: str | os.PathLike[str]) -> PbxProject:
    """Read ``X.xcodeproj/project.pbxproj``; raises :class:`XcodeProjectError` or ``InputError``."""
    folder = os.fspath(xcodeproj)
    path = os.path.join(folder, PBXPROJ)
    try:
        with open_readonly(path, max_size=XCODE_MAX_PBXPROJ_SIZE) as buf:
            data = bytes(buf)
    except InputError as err:
        if err.category == LIMIT:
            raise XcodeProjectError(err.reason, path=path, offset=err.offset, category=LIMIT) from None
        raise
    return parse_pbxproj(data, path=path, xcodeproj=folder)


def parse_pbxproj(data: bytes, *, path: str, xcodeproj: str) -> PbxProject:
    """The facts of one project from the bytes of its ``project.pbxproj`` (``path`` names it in errors)."""
    if len(data) > XCODE_MAX_PBXPROJ_SIZE:
        raise XcodeProjectError(f"{len(data)} bytes is larger than the limit of {XCODE_MAX_PBXPROJ_SIZE}",
                                path=path, offset=XCODE_MAX_PBXPROJ_SIZE, category=LIMIT)
    text = _decode(data, path)
    tree = _parse(text, path)
    return _Graph(tree, text, path, xcodeproj).project()


# ------------------------------------------------------------------------------------------- text


def _decode(data: bytes, path: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise XcodeProjectError(f"not UTF-8 text ({exc.reason})", path=path, offset=exc.start, line=line) from None
    if "\x00" in text:
        at = text.index("\x00")
        raise XcodeProjectError("a NUL character: not a project.pbxproj", path=path, offset=_byte_offset(text, at),
                                line=text.count("\n", 0, at) + 1)
    return text


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def error_at(text: str, index: int, reason: str, path: str, category: str | None = None) -> XcodeProjectError:
    """An error at character ``index`` of ``text``, given as byte offset and line."""
    index = max(0, min(index, len(text)))
    return XcodeProjectError(reason, path=path, offset=_byte_offset(text, index), line=text.count("\n", 0, index) + 1,
                             category=category)


def _prescan(text: str, path: str) -> None:
    """Nesting within the cap, every string and comment closed, brackets balanced: before the parser runs."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group(0)
        if token[0] == '"':
            if not match.group(1):
                raise error_at(text, match.start(), "a quoted string is never closed", path)
        elif token[0] == "/":
            if not match.group(2):
                raise error_at(text, match.start(), "a /* comment */ is never closed", path)
        elif token in "{(":
            depth += 1
            if depth > XCODE_MAX_NESTING:
                raise error_at(text, match.start(), f"nested more than {XCODE_MAX_NESTING} levels deep", path,
                               category=LIMIT)
        else:
            depth -= 1
            if depth < 0:
                raise error_at(text, match.start(), f"{token!r} closes nothing", path)
    if depth:
        raise error_at(text, len(text), "the text ends inside an open dictionary or array", path)


def _parse(text: str, path: str) -> dict[str, Any]:
    from openstep_parser import OpenStepDecoder

    if not text.strip():
        raise XcodeProjectError("empty file", path=path, offset=0, line=1)
    _prescan(text, path)
    try:
        tree = OpenStepDecoder.ParseFromString(text)
    except IndexError:
        raise error_at(text, len(text), "the text ends before the property list does", path) from None
    except RecursionError:  # unreachable after the prescan; kept so that no input can escape as a crash
        raise XcodeProjectError(f"nested more than {XCODE_MAX_NESTING} levels deep", path=path,
                                category=LIMIT) from None
    except Exception as exc:  # openstep_parser raises bare Exception("Expected ... @ index")
        found = _AT_INDEX.search(str(exc))
        index = int(found.group(1)) if found else 0
        reason = _AT_INDEX.sub("", str(exc)).replace("Found", "found").strip(" .") or exc.__class__.__name__
        raise error_at(text, index, f"not an OpenStep property list: {reason}", path) from None
    if not isinstance(tree, dict):
        raise XcodeProjectError("the top level is not a dictionary", path=path, offset=0, line=1)
    return tree


# ------------------------------------------------------------------------------------------ graph


class _Graph:
    """The object graph of one parsed project, read with a type check on every value used."""

    def __init__(self, tree: dict[str, Any], text: str, path: str, xcodeproj: str) -> None:
        self.text = text
        self.path = path
        self.xcodeproj = os.path.normpath(xcodeproj)
        objects = tree.get("objects")
        if not isinstance(objects, dict):
            raise self.error("", "the project has no objects dictionary")
        if len(objects) > XCODE_MAX_OBJECTS:
            raise self.error("", f"{len(objects)} objects is more than the limit of {XCODE_MAX_OBJECTS}", LIMIT)
        self.objects: dict[str, Any] = objects
        self.root_id = tree.get("rootObject")
        version = tree.get("objectVersion")
        self.object_version: str = version if isinstance(version, str) else ""
        self.parents: dict[str, str] = {}
        for oid, obj in objects.items():
            if isinstance(obj, dict) and obj.get("isa") in _GROUPS:
                for child in self.strings(oid, obj, "children"):
                    self.parents.setdefault(child, oid)
        self.product_owner: dict[str, str] = {}
        self.file_cache: dict[str, FileRef | None] = {}
        self.dir_cache: dict[str, str | None] = {}

    # -------------------------------------------------------------- typed access
    def error(self, oid: str, reason: str, category: str | None = None) -> XcodeProjectError:
        at = self.text.find(oid) if oid else 0
        return error_at(self.text, max(at, 0), reason, self.path, category)

    def obj(self, oid: Any, isa: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        """The object with this id, None when the project does not hold it (Xcode tolerates dangling ids)."""
        if not isinstance(oid, str):
            return None
        found = self.objects.get(oid)
        if not isinstance(found, dict) or not isinstance(found.get("isa"), str):
            return None
        return found if isa is None or found["isa"] in isa else None

    def string(self, oid: str, obj: dict[str, Any], key: str) -> str | None:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.error(oid, f"object {oid}: {key} is not a string")

    def strings(self, oid: str, obj: dict[str, Any], key: str) -> list[str]:
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(oid, f"object {oid}: {key} is not a list of ids")
        return value

    # -------------------------------------------------------------- project
    def project(self) -> PbxProject:
        root = self.obj(self.root_id, ("PBXProject",))
        if root is None:
            raise self.error(str(self.root_id or ""), "rootObject does not name a PBXProject object")
        root_id = str(self.root_id)
        project_dir = os.path.dirname(self.xcodeproj) or "."
        sub = self.string(root_id, root, "projectDirPath")
        if sub:
            project_dir = os.path.normpath(os.path.join(project_dir, sub))
        self.project_dir = project_dir
        self.main_group = self.string(root_id, root, "mainGroup")
        targets_ids = self.strings(root_id, root, "targets")
        natives = [(tid, t) for tid in targets_ids if (t := self.obj(tid, ("PBXNativeTarget",))) is not None]
        for tid, t in natives:
            ref = self.string(tid, t, "productReference")
            if ref:
                self.product_owner[ref] = tid
        configs, default = self.configuration_list(root_id, root)
        name = os.path.basename(self.xcodeproj)
        name = name[: -len(".xcodeproj")] if name.lower().endswith(".xcodeproj") else name
        return PbxProject(self.path, self.xcodeproj, name, project_dir, self.object_version, configs, default,
                          tuple(self.target(tid, t) for tid, t in natives))

    def configuration_list(self, oid: str, obj: dict[str, Any]) -> tuple[tuple[BuildConfiguration, ...], str | None]:
        list_id = self.string(oid, obj, "buildConfigurationList")
        lst = self.obj(list_id, ("XCConfigurationList",))
        if lst is None:
            return (), None
        out = []
        for cid in self.strings(str(list_id), lst, "buildConfigurations"):
            conf = self.obj(cid, ("XCBuildConfiguration",))
            if conf is None:
                continue
            settings = conf.get("buildSettings", {})
            if not isinstance(settings, dict):
                raise self.error(cid, f"object {cid}: buildSettings is not a dictionary")
            base = self.file_ref(self.string(cid, conf, "baseConfigurationReference"))
            out.append(BuildConfiguration(self.string(cid, conf, "name") or "", settings, base))
        return tuple(out), self.string(str(list_id), lst, "defaultConfigurationName")

    def target(self, tid: str, t: dict[str, Any]) -> NativeTarget:
        configs, default = self.configuration_list(tid, t)
        phases = tuple(p for pid in self.strings(tid, t, "buildPhases") if (p := self.phase(pid)) is not None)
        deps = []
        for did in self.strings(tid, t, "dependencies"):
            dep = self.obj(did, ("PBXTargetDependency",))
            if dep is not None and isinstance(dep.get("target"), str):
                deps.append(dep["target"])
        products = []
        for pid in self.strings(tid, t, "packageProductDependencies"):
            prod = self.obj(pid, ("XCSwiftPackageProductDependency",))
            if prod is not None and isinstance(prod.get("productName"), str):
                products.append(prod["productName"])
        ref = self.file_ref(self.string(tid, t, "productReference"))
        synced = tuple(s for gid in self.strings(tid, t, "fileSystemSynchronizedGroups")
                       if (s := self.synchronized(gid, tid)) is not None)
        return NativeTarget(tid, self.string(tid, t, "name") or tid, self.string(tid, t, "productType") or "",
                            self.string(tid, t, "productName"), ref.name if ref else None, configs, default, phases,
                            tuple(deps), tuple(products), synced)

    def phase(self, pid: str) -> BuildPhase | None:
        p = self.obj(pid)
        if p is None:
            return None
        files = []
        for bid in self.strings(pid, p, "files"):
            b = self.obj(bid, ("PBXBuildFile",))
            if b is None:
                continue
            ref_id = self.string(bid, b, "fileRef")
            package = self.obj(self.string(bid, b, "productRef"), ("XCSwiftPackageProductDependency",))
            files.append(BuildFile(self.file_ref(ref_id), self.product_owner.get(ref_id or ""),
                                   package.get("productName") if package and isinstance(
                                       package.get("productName"), str) else None))
        spec = self.string(pid, p, "dstSubfolderSpec")
        return BuildPhase(p["isa"], self.string(pid, p, "name") or "", spec, self.string(pid, p, "dstPath") or "",
                          tuple(files))

    def synchronized(self, gid: str, tid: str) -> tuple[str, frozenset[str]] | None:
        """An Xcode 16 folder whose files belong to the target without being listed (minus its exceptions)."""
        g = self.obj(gid, ("PBXFileSystemSynchronizedRootGroup",))
        if g is None:
            return None
        folder = self.element_path(gid, g)
        if folder is None:
            return None
        excluded: set[str] = set()
        for eid in self.strings(gid, g, "exceptions"):
            e = self.obj(eid)
            if e is not None and e.get("target") == tid:
                excluded.update(self.strings(eid, e, "membershipExceptions"))
        return folder, frozenset(excluded)

    # -------------------------------------------------------------- files
    def file_ref(self, oid: str | None) -> FileRef | None:
        if oid is None:
            return None
        if oid in self.file_cache:
            return self.file_cache[oid]
        f = self.obj(oid)
        ref = None
        if f is not None and f["isa"] not in ("PBXNativeTarget", "PBXProject"):
            path = self.string(oid, f, "path") or ""
            name = self.string(oid, f, "name") or os.path.basename(path) or oid
            kind = self.string(oid, f, "lastKnownFileType") or self.string(oid, f, "explicitFileType") or ""
            ref = FileRef(oid, os.path.basename(path) or name, self.element_path(oid, f),
                          self.string(oid, f, "sourceTree") or "<group>", kind)
        self.file_cache[oid] = ref
        return ref

    def element_path(self, oid: str, element: dict[str, Any], depth: int = 0) -> str | None:
        """Where a file or group lies: ``<group>`` paths are joined up the group tree to the project folder."""
        tree = self.string(oid, element, "sourceTree") or "<group>"
        path = self.string(oid, element, "path") or ""
        if tree == "<absolute>":
            return os.path.normpath(path) if path else None
        if tree == "SOURCE_ROOT":
            return os.path.normpath(os.path.join(self.project_dir, path))
        if tree != "<group>":
            return None  # BUILT_PRODUCTS_DIR, SDKROOT, DEVELOPER_DIR: not in the source tree
        parent = self.parents.get(oid)
        if parent is None or depth > XCODE_MAX_NESTING:
            base: str | None = self.project_dir
        elif parent in self.dir_cache:
            base = self.dir_cache[parent]
        else:
            group = self.obj(parent)
            base = self.element_path(parent, group, depth + 1) if group else self.project_dir
            self.dir_cache[parent] = base
        if base is None:
            return None
        return os.path.normpath(os.path.join(base, path)) if path else base
