"""Which JavaScript and WebAssembly engines a Mach-O slice carries, found without running anything.

Users must tell ``check`` which runtime a binary uses, and often do not know: an Electron app runs
V8, Bun is a static JavaScriptCore, a Go tool may embed wazero, a Rust tool wasmtime. Each engine
leaves signatures a reader can see: the frameworks and dylibs it links, the symbols it exports or
imports, sections of its own, the Go modules its build info lists, the Rust crates its panic
paths name, a few telling strings. Each signature is a fact with a source, a row of
``data/engine_signatures.csv``; this module loads the table and matches it against a
:class:`~macwasm.signing.layout.SliceLayout`.

How the signals combine into an :class:`~macwasm.signing.model.EngineDetection`:

* a row names one engine (it *identifies* it) or several separated by ``|`` (it is *shared*:
  wasm-c-api names, Node-API, V8's public API, which Bun also exports as shims). A shared row
  never makes a detection; it only adds evidence to an engine found by identifying rows;
* confidence: ``high`` when one high signal matched or when signals of two independent kinds
  agree (library, symbol, section, Go module, Rust crate, string), else the best single signal.
  A symbol that is only imported counts one step lower: it shows use, not presence;
* location: ``embedded`` (defined here), ``linked`` (a library this binary links), ``imported``.

Speed: the load commands, sections, exports, imports and Go build info are cheap and always read.
The byte searches (local symbol names in the string table, strings and Rust crate paths in
``__TEXT,__cstring`` / ``__TEXT,__const``) cost a pass over megabytes per pattern, so they run only
when the cheap signals found no engine with high confidence, within the caps of
:mod:`macwasm.limits`. A binary whose one engine shows only in strings is still found; a second
engine hidden only in strings behind a first, obvious one is not looked for.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from macwasm.datafiles import check_value, read_rows, table_error, table_key
from macwasm.errors import ArtifactError, MachOFormatError
from macwasm.limits import ENGINE_MAX_CRATE_PATHS, ENGINE_MAX_SCAN_BYTES
from macwasm.policy.tables import runtimes
from macwasm.signing.gobuild import read_go_buildinfo
from macwasm.signing.layout import SliceLayout
from macwasm.signing.linkedit import SymbolTable, chained_imports, export_trie_lookup, find, provider
from macwasm.signing.model import ENGINE_CONFIDENCES, ENGINE_LOCATIONS, EngineDetection

TABLE = "engine_signatures.csv"
KINDS = ("framework", "dylib", "symbol-prefix", "section", "go-module", "rust-crate", "string")
#: kinds that read the same source count as one when deciding whether two signals are independent
_KIND_GROUP = {"framework": "library", "dylib": "library", "symbol-prefix": "symbol", "section": "section",
               "go-module": "go-module", "rust-crate": "rust-crate", "string": "string"}
#: the sections searched for string and crate-path signatures (C strings; Rust's &str literals and panic paths)
STRING_SECTIONS = (("__TEXT", "__cstring"), ("__TEXT", "__const"))
#: cargo writes crates.io sources under $CARGO_HOME/registry/src/<index>/<crate>-<version>/
_REGISTRY_ANCHOR = b"/registry/src/"
_CRATE_DIR = re.compile(rb"[^/\0]{1,200}/([A-Za-z0-9_-]{1,64})-(\d{1,9}\.\d{1,9}\.\d{1,9}[0-9A-Za-z.+-]{0,64})/")
_EVIDENCE_NAME = 160  # characters of a symbol or path quoted in evidence


@dataclass(frozen=True)
class EngineSignature:
    """One row of ``data/engine_signatures.csv``."""

    id: str
    engine: str  # a runtimes.csv family, or several joined by "|" (a shared signal)
    runtime: str  # a runtimes.csv key this signal shows compiled in ("" when it does not tell the mode)
    embedder: str  # product around the engine (Electron, Node.js, Bun), "" when not told
    kind: str  # one of KINDS
    pattern: str
    confidence: str  # one of ENGINE_CONFIDENCES: the strength of this one signal
    source: str
    notes: str

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.engine.split("|"))

    @property
    def shared(self) -> bool:
        return "|" in self.engine


@dataclass(frozen=True)
class _Hit:
    signature: EngineSignature
    location: str  # one of ENGINE_LOCATIONS
    evidence: str

    @property
    def confidence(self) -> str:
        rank = ENGINE_CONFIDENCES.index(self.signature.confidence)
        if self.location == "imported":
            rank = min(rank + 1, len(ENGINE_CONFIDENCES) - 1)
        return ENGINE_CONFIDENCES[rank]


# ------------------------------------------------------------------------------------- the table


@lru_cache(maxsize=4)
def _signatures(_root_key: str) -> tuple[EngineSignature, ...]:
    cols = tuple(EngineSignature.__dataclass_fields__)
    known = runtimes()
    families = sorted({r.family for r in known.values()})
    out: list[EngineSignature] = []
    seen: set[str] = set()
    for line, row in read_rows(TABLE, cols):
        values = {c: row[c] for c in cols}
        sig = EngineSignature(**values)
        if not sig.id or sig.id in seen:
            raise table_error(TABLE, f"id {sig.id!r} is empty or used twice", line)
        seen.add(sig.id)
        for engine in sig.engines:
            check_value(TABLE, line, "engine", engine, families)
        check_value(TABLE, line, "kind", sig.kind, KINDS)
        check_value(TABLE, line, "confidence", sig.confidence, ENGINE_CONFIDENCES)
        if sig.runtime:
            check_value(TABLE, line, "runtime", sig.runtime, sorted(known))
            if known[sig.runtime].family not in sig.engines:
                raise table_error(TABLE, f"runtime {sig.runtime} is not of engine {sig.engine}", line)
        if not sig.pattern or (sig.kind == "string" and not sig.pattern.isascii()):
            raise table_error(TABLE, "the pattern must be non-empty (and ASCII for strings)", line)
        out.append(sig)
    return tuple(out)


def signatures() -> tuple[EngineSignature, ...]:
    """The engine signature table (cached; ``MACWASM_DATA`` points at another copy of the tables)."""
    return _signatures(table_key())


def _of_kind(sigs: tuple[EngineSignature, ...], kind: str) -> list[EngineSignature]:
    return [s for s in sigs if s.kind == kind]


def _quote(name: bytes | str) -> str:
    text = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
    return text if len(text) <= _EVIDENCE_NAME else text[:_EVIDENCE_NAME] + "..."


# ----------------------------------------------------------------------------------- detection


def detect_engines(buf: Any, layout: SliceLayout, *, path: str | None = None,
                   notes: list[str] | None = None) -> tuple[EngineDetection, ...]:
    """Every engine the slice described by ``layout`` carries, strongest first; caps hit go to ``notes``."""
    notes = notes if notes is not None else []
    sigs = signatures()
    hits: list[_Hit] = []
    hits += _library_hits(sigs, layout)  # from the load commands alone
    hits += _section_hits(sigs, layout)
    try:
        hits += _go_hits(sigs, buf, layout, path, notes)
        symtab = SymbolTable(buf, layout, path, notes) if layout.symtab is not None else None
        symbol_hits = (_export_hits(sigs, buf, layout, symtab, path)
                       + _import_hits(sigs, buf, layout, symtab, path, notes))
        hits += symbol_hits
        if not any(d.confidence == "high" for d in _combine(hits)):
            matched = {h.signature.id for h in symbol_hits}
            if symtab is not None:
                hits += _local_symbol_hits(sigs, symtab, matched, notes)
            hits += _content_hits(sigs, buf, layout, path, notes)
    except ArtifactError as err:
        # a member of a streamed .pkg keeps its headers, load commands and signature only: the engines its
        # symbols and strings would show are not searched, and the reader says so instead of failing the file
        notes.append(f"engines found from the load commands only: {err.reason}")
    return _combine(hits)


def _library_hits(sigs: tuple[EngineSignature, ...], layout: SliceLayout) -> list[_Hit]:
    named = [(d.path, "linked", f"links {{}} ({d.command})") for d in layout.dylibs]
    if layout.id_dylib is not None:
        named.insert(0, (layout.id_dylib, "embedded", "is {} (LC_ID_DYLIB)"))
    out = []
    for sig in _of_kind(sigs, "framework") + _of_kind(sigs, "dylib"):
        for lib, location, text in named:
            if _library_matches(sig, lib):
                out.append(_Hit(sig, location, text.format(_quote(lib))))
                break
    return out


def _library_matches(sig: EngineSignature, lib: str) -> bool:
    parts = lib.split("/")
    if sig.kind == "framework":
        return f"{sig.pattern}.framework" in parts
    return fnmatch.fnmatchcase(parts[-1], sig.pattern)


def _section_hits(sigs: tuple[EngineSignature, ...], layout: SliceLayout) -> list[_Hit]:
    out = []
    for sig in _of_kind(sigs, "section"):
        for sec in layout.sections:
            if fnmatch.fnmatchcase(sec.name, sig.pattern):
                out.append(_Hit(sig, "embedded", f"has section {sec.name} ({sec.size} bytes)"))
                break
    return out


def _go_hits(sigs: tuple[EngineSignature, ...], buf: Any, layout: SliceLayout, path: str | None,
             notes: list[str]) -> list[_Hit]:
    rows = _of_kind(sigs, "go-module")
    info = read_go_buildinfo(buf, layout, path, notes) if rows else None
    if info is None:
        return []
    out = []
    for sig in rows:
        for module in info.modules:
            if fnmatch.fnmatchcase(module.path, sig.pattern):
                out.append(_Hit(sig, "embedded", f"Go build info ({info.go_version}) lists module {module.path} "
                                                 f"{module.version}"))
                break
    return out


def _prefixes(sigs: tuple[EngineSignature, ...]) -> list[tuple[EngineSignature, bytes]]:
    return [(s, s.pattern.encode()) for s in _of_kind(sigs, "symbol-prefix")]


def _export_hits(sigs: tuple[EngineSignature, ...], buf: Any, layout: SliceLayout, symtab: SymbolTable | None,
                 path: str | None) -> list[_Hit]:
    out = []
    for sig, prefix in _prefixes(sigs):
        name = where = None
        if layout.exports is not None:
            name, where = export_trie_lookup(buf, layout, layout.exports, prefix, path), "export trie"
        if name is None and symtab is not None:
            name, where = symtab.export_with_prefix(prefix), "symbol table"
        if name is not None:
            out.append(_Hit(sig, "embedded", f"exports {_quote(name)} ({where})"))
    return out


def _import_hits(sigs: tuple[EngineSignature, ...], buf: Any, layout: SliceLayout, symtab: SymbolTable | None,
                 path: str | None, notes: list[str]) -> list[_Hit]:
    rows = _prefixes(sigs)
    if not rows:
        return []
    wanted = tuple(p for _, p in rows)
    found: dict[bytes, tuple[bytes, int, str]] = {}

    def scan(names: Any, where: str) -> None:
        for name, ordinal in names:
            if name.startswith(wanted):
                for prefix in wanted:
                    if prefix not in found and name.startswith(prefix):
                        found[prefix] = (name, ordinal, where)

    if symtab is not None:
        scan(symtab.imports(notes), "symbol table")
    if layout.chained_fixups is not None:
        scan(chained_imports(buf, layout, layout.chained_fixups, path, notes), "chained fixups")
    out = []
    for sig, prefix in rows:
        if prefix in found:
            name, ordinal, where = found[prefix]
            source = provider(layout, ordinal)
            out.append(_Hit(sig, "imported", f"imports {_quote(name)}" + (f" from {source}" if source else "")
                            + f" ({where})"))
    return out


def _local_symbol_hits(sigs: tuple[EngineSignature, ...], symtab: SymbolTable, matched: set[str],
                       notes: list[str]) -> list[_Hit]:
    rows = [(s, p) for s, p in _prefixes(sigs) if s.id not in matched]
    found = symtab.any_name_with_prefix([p for _, p in rows], notes)
    return [_Hit(s, "embedded", f"names {_quote(found[p])} in its symbol table") for s, p in rows if p in found]


def _scanned_sections(buf: Any, layout: SliceLayout, path: str | None, notes: list[str]) -> list[tuple[str, int, int]]:
    """``(name, start, end)`` of the sections searched for strings, within :data:`ENGINE_MAX_SCAN_BYTES` in all."""
    out = []
    budget = ENGINE_MAX_SCAN_BYTES
    for segname, sectname in STRING_SECTIONS:
        sec = layout.section(segname, sectname)
        if sec is None or not sec.has_file_bytes:
            continue
        if sec.offset + sec.size > layout.size:
            raise MachOFormatError(f"section {sec.name} ({sec.size} bytes at {sec.offset}) runs past the end of the "
                                   f"{layout.size}-byte slice", path=path, offset=sec.at)
        take = min(sec.size, budget)
        if take < sec.size:
            notes.append(f"engine detection: only {take} of the {sec.size} bytes of {sec.name} were searched "
                         f"(limit {ENGINE_MAX_SCAN_BYTES} bytes per slice)")
        if take:
            start = layout.start + sec.offset
            out.append((sec.name, start, start + take))
        budget -= take
    return out


def _content_hits(sigs: tuple[EngineSignature, ...], buf: Any, layout: SliceLayout, path: str | None,
                  notes: list[str]) -> list[_Hit]:
    strings, crates = _of_kind(sigs, "string"), _of_kind(sigs, "rust-crate")
    if not strings and not crates:
        return []
    regions = _scanned_sections(buf, layout, path, notes)
    out = []
    for sig in strings:
        needle = sig.pattern.encode("ascii")
        for name, start, end in regions:
            if find(buf, needle, start, end) >= 0:
                out.append(_Hit(sig, "embedded", f"{name} holds the string {sig.pattern!r}"))
                break
    if crates:
        seen = _crate_dirs(buf, regions, notes)
        for sig in crates:
            for crate, version in seen:
                if fnmatch.fnmatchcase(crate, sig.pattern):
                    out.append(_Hit(sig, "embedded", f"panic paths name the crate {crate} {version} (cargo registry)"))
                    break
    return out


def _crate_dirs(buf: Any, regions: list[tuple[str, int, int]], notes: list[str]) -> dict[tuple[str, str], None]:
    """``(crate, version)`` of every ``.../registry/src/<index>/<crate>-<version>/`` path, in order found."""
    seen: dict[tuple[str, str], None] = {}
    examined = 0
    for _name, start, end in regions:
        pos = start
        while examined < ENGINE_MAX_CRATE_PATHS:
            hit = find(buf, _REGISTRY_ANCHOR, pos, end)
            if hit < 0:
                break
            examined += 1
            after = hit + len(_REGISTRY_ANCHOR)
            m = _CRATE_DIR.match(bytes(buf[after:min(end, after + 400)]))
            if m:
                seen.setdefault((m.group(1).decode("ascii"), m.group(2).decode("ascii")), None)
            pos = after
        else:
            notes.append(f"engine detection: only the first {ENGINE_MAX_CRATE_PATHS} cargo registry paths were read")
            break
    return seen


def _combine(hits: list[_Hit]) -> tuple[EngineDetection, ...]:
    """One detection per engine that identifying signals name; shared signals add their evidence to it."""
    by_engine: dict[str, list[_Hit]] = {}
    for hit in hits:
        if not hit.signature.shared:
            by_engine.setdefault(hit.signature.engine, []).append(hit)
    for hit in hits:
        if hit.signature.shared:
            for engine in hit.signature.engines:
                if engine in by_engine:
                    by_engine[engine].append(hit)
    out = []
    for engine, group in by_engine.items():
        own = [h for h in group if not h.signature.shared]
        kinds = {_KIND_GROUP[h.signature.kind] for h in own}
        best = min(ENGINE_CONFIDENCES.index(h.confidence) for h in own)
        confidence = "high" if len(kinds) >= 2 else ENGINE_CONFIDENCES[best]
        location = ENGINE_LOCATIONS[min(ENGINE_LOCATIONS.index(h.location) for h in own)]
        runtimes_shown = tuple(dict.fromkeys(h.signature.runtime for h in own if h.signature.runtime))
        embedders = list(dict.fromkeys(h.signature.embedder for h in own if h.signature.embedder))
        evidence = tuple(f"{h.evidence} [{h.signature.id}, {h.confidence}"
                         + (f", shared with {'/'.join(e for e in h.signature.engines if e != engine)}]"
                            if h.signature.shared else "]") for h in group)
        out.append(EngineDetection(engine, confidence, location, evidence, runtimes_shown,
                                   ", ".join(embedders) or None, tuple(h.signature.id for h in group)))
    out.sort(key=lambda d: (ENGINE_CONFIDENCES.index(d.confidence), ENGINE_LOCATIONS.index(d.location), d.engine))
    return tuple(out)
