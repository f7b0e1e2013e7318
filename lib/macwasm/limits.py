"""Every cap the readers enforce, in one place.

A hostile file must not make a reader allocate, loop or recurse without bound. Each reader checks
a count or size against one of these *before* it allocates, and raises its own error with
``category="limit"`` (not "malformed") when a cap is hit, so a user can tell "too big for us" from
"broken". Where a web engine or Apple's tooling already sets a limit, we use the same number so
that real inputs always come out complete.

``LIMITS`` is the documented table (name, value, unit, what it caps, why / source); tests check
that every constant below appears in it, and ``tests/fuzz/README.md`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    unit: str
    caps: str
    source: str


# --- WebAssembly (JS API "implementation-defined limits", as V8, SpiderMonkey and JSC enforce them) ---
JS_API_LIMITS = "https://webassembly.github.io/spec/js-api/#limits"
# The CG raised the import/export limits from 100,000 to 1,000,000 on 2024-07-16 (WebAssembly/spec PR #1766,
# "Raise Web implementation limits for imports and exports"); wasmparser followed (MAX_WASM_IMPORTS/EXPORTS).
JS_API_IMPORTS_EXPORTS = JS_API_LIMITS + " (raised to 1,000,000 by WebAssembly/spec PR #1766, 2024)"
WASM_MAX_FILE_SIZE = 1 * GiB
WASM_MAX_TYPES = 1_000_000
WASM_MAX_FUNCTIONS = 1_000_000
WASM_MAX_LOCALS = 50_000
WASM_MAX_IMPORTS = 1_000_000
WASM_MAX_EXPORTS = 1_000_000
WASM_MAX_GLOBALS = 1_000_000
WASM_MAX_TAGS = 1_000_000
WASM_MAX_DATA_SEGMENTS = 100_000
WASM_MAX_ELEMENT_SEGMENTS = 100_000
WASM_MAX_TABLES = 100_000
WASM_MAX_MEMORIES = 100
WASM_MAX_STRING_SIZE = 100_000
WASM_MAX_SECTIONS = 100_000
WASM_MAX_LEB128_BYTES_U32 = 5
WASM_MAX_LEB128_BYTES_U64 = 10
WASM_MAX_NAME_ENTRIES = 1_000_000
WASM_MAX_PRODUCERS_FIELDS = 1_000
WASM_MAX_COMPONENT_NESTING = 100

LIMITS: list[Limit] = [
    Limit("WASM_MAX_FILE_SIZE", WASM_MAX_FILE_SIZE, "bytes", "size of a module or component", JS_API_LIMITS),
    Limit("WASM_MAX_TYPES", WASM_MAX_TYPES, "entries", "type section entries", JS_API_LIMITS),
    Limit("WASM_MAX_FUNCTIONS", WASM_MAX_FUNCTIONS, "entries", "functions (imported + defined)", JS_API_LIMITS),
    Limit("WASM_MAX_LOCALS", WASM_MAX_LOCALS, "entries", "local declarations of one function body", JS_API_LIMITS),
    Limit("WASM_MAX_IMPORTS", WASM_MAX_IMPORTS, "entries", "imports", JS_API_IMPORTS_EXPORTS),
    Limit("WASM_MAX_EXPORTS", WASM_MAX_EXPORTS, "entries", "exports", JS_API_IMPORTS_EXPORTS),
    Limit("WASM_MAX_GLOBALS", WASM_MAX_GLOBALS, "entries", "globals", JS_API_LIMITS),
    Limit("WASM_MAX_TAGS", WASM_MAX_TAGS, "entries", "exception tags", JS_API_LIMITS),
    Limit("WASM_MAX_DATA_SEGMENTS", WASM_MAX_DATA_SEGMENTS, "entries", "data segments", JS_API_LIMITS),
    Limit("WASM_MAX_ELEMENT_SEGMENTS", WASM_MAX_ELEMENT_SEGMENTS, "entries", "element segments",
          "wasmparser MAX_WASM_ELEMENT_SEGMENTS (the JS API sets no element-segment count)"),
    Limit("WASM_MAX_TABLES", WASM_MAX_TABLES, "entries", "tables", JS_API_LIMITS),
    Limit("WASM_MAX_MEMORIES", WASM_MAX_MEMORIES, "entries", "memories (multi-memory)", JS_API_LIMITS),
    Limit("WASM_MAX_STRING_SIZE", WASM_MAX_STRING_SIZE, "bytes", "one name (import, export, custom section)",
          "wasmparser MAX_WASM_STRING_SIZE"),
    Limit("WASM_MAX_SECTIONS", WASM_MAX_SECTIONS, "sections", "sections in one module/component", "ours"),
    Limit("WASM_MAX_LEB128_BYTES_U32", WASM_MAX_LEB128_BYTES_U32, "bytes", "an unsigned 32-bit LEB128",
          "https://webassembly.github.io/spec/core/binary/values.html#integers"),
    Limit("WASM_MAX_LEB128_BYTES_U64", WASM_MAX_LEB128_BYTES_U64, "bytes", "an unsigned 64-bit LEB128",
          "https://webassembly.github.io/spec/core/binary/values.html#integers"),
    Limit("WASM_MAX_NAME_ENTRIES", WASM_MAX_NAME_ENTRIES, "entries", "entries read from the `name` section",
          "ours (= max functions)"),
    Limit("WASM_MAX_PRODUCERS_FIELDS", WASM_MAX_PRODUCERS_FIELDS, "entries", "fields/values in `producers`",
          "ours"),
    Limit("WASM_MAX_COMPONENT_NESTING", WASM_MAX_COMPONENT_NESTING, "levels", "nested components/modules",
          "ours"),
]

# --- PLIST / PROFILE: property lists, codesign output, provisioning profiles (signing/plist.py,
# signing/codesign_text.py, signing/profile.py). Real entitlements plists are a few KB and a few levels
# deep; Info.plists and profiles stay well under 1 MB. The caps are far above that and far below what
# would exhaust memory or the interpreter's recursion limit.
PLIST_MAX_SIZE = 16 * MiB
PLIST_MAX_DEPTH = 128
PLIST_MAX_ELEMENTS = 1_000_000
PROFILE_MAX_SIZE = 16 * MiB
PROFILE_MAX_DER_DEPTH = 64
PROFILE_MAX_DER_NODES = 200_000

LIMITS.extend([
    Limit("PLIST_MAX_SIZE", PLIST_MAX_SIZE, "bytes", "one property list or pasted codesign output", "ours"),
    Limit("PLIST_MAX_DEPTH", PLIST_MAX_DEPTH, "levels", "nested dict/array levels in a plist or codesign output",
          "ours (well below Python's recursion limit)"),
    Limit("PLIST_MAX_ELEMENTS", PLIST_MAX_ELEMENTS, "elements",
          "XML elements, binary objects (counted as the value they expand to) or codesign output lines", "ours"),
    Limit("PROFILE_MAX_SIZE", PROFILE_MAX_SIZE, "bytes", "one provisioning profile", "ours"),
    Limit("PROFILE_MAX_DER_DEPTH", PROFILE_MAX_DER_DEPTH, "levels", "nested DER/BER constructed values in a profile",
          "ours (asn1crypto itself stops indefinite-length nesting at 10)"),
    Limit("PROFILE_MAX_DER_NODES", PROFILE_MAX_DER_NODES, "values", "DER/BER values walked in one profile", "ours"),
])

# --- INTEGRITY: Ed25519 check of downloaded modules (integrity.py). A PEM public key is ~113 bytes and a
# base64 signature 88; the caps leave room for comments/whitespace and refuse anything file-sized.
# The module itself is capped by WASM_MAX_FILE_SIZE.
INTEGRITY_MAX_KEY_SIZE = 4096
INTEGRITY_MAX_SIGNATURE_SIZE = 1024

LIMITS.extend([
    Limit("INTEGRITY_MAX_KEY_SIZE", INTEGRITY_MAX_KEY_SIZE, "bytes", "a publisher public key file (PEM or raw)",
          "ours"),
    Limit("INTEGRITY_MAX_SIGNATURE_SIZE", INTEGRITY_MAX_SIGNATURE_SIZE, "bytes",
          "a module signature file (raw or base64)", "ours"),
])

# --- LOG: system logs, crash reports and notarization logs handed to `explain` (policy/explain.py).
# A `log show` export of a few hours is tens of MB; a crash report or notary log is under 1 MB. Lines longer
# than the line cap are matched on their first LOG_MAX_LINE_LENGTH characters only (and counted), so a hostile
# 1 MB line costs no more than a normal one. One placeholder captures at most LOG_MAX_FIELD_LENGTH characters
# (macOS PATH_MAX is 1024), which bounds the work per candidate match.
LOG_MAX_SIZE = 256 * MiB
LOG_MAX_LINES = 5_000_000
LOG_MAX_LINE_LENGTH = 64 * 1024
LOG_MAX_FIELD_LENGTH = 4096
LOG_MAX_JSON_SIZE = 16 * MiB
LOG_MAX_JSON_DEPTH = 64
LOG_MAX_MATCHES_PER_LINE = 16
LOG_MAX_UNRECOGNISED_SAMPLES = 5
LOG_MAX_QUOTE_LENGTH = 500

LIMITS.extend([
    Limit("LOG_MAX_SIZE", LOG_MAX_SIZE, "bytes", "one log, crash report or notarization log given to explain", "ours"),
    Limit("LOG_MAX_LINES", LOG_MAX_LINES, "lines", "lines in one log", "ours"),
    Limit("LOG_MAX_LINE_LENGTH", LOG_MAX_LINE_LENGTH, "characters",
          "characters of one line that are matched (the rest is ignored and the line counted as long)", "ours"),
    Limit("LOG_MAX_FIELD_LENGTH", LOG_MAX_FIELD_LENGTH, "characters",
          "one placeholder capture (path, reason, keys) in a diagnostic pattern", "ours (4 x macOS PATH_MAX)"),
    Limit("LOG_MAX_JSON_SIZE", LOG_MAX_JSON_SIZE, "bytes",
          "a notarization log or .ips crash report parsed as JSON (larger input is read line by line)", "ours"),
    Limit("LOG_MAX_JSON_DEPTH", LOG_MAX_JSON_DEPTH, "levels",
          "nested arrays/objects in a JSON log, checked before json.loads", "ours (real logs nest < 10)"),
    Limit("LOG_MAX_MATCHES_PER_LINE", LOG_MAX_MATCHES_PER_LINE, "matches", "diagnostics reported for one line",
          "ours (the forum thread's pasted line holds 3)"),
    Limit("LOG_MAX_UNRECOGNISED_SAMPLES", LOG_MAX_UNRECOGNISED_SAMPLES, "lines",
          "unrecognised lines quoted in a report (all are counted)", "ours"),
    Limit("LOG_MAX_QUOTE_LENGTH", LOG_MAX_QUOTE_LENGTH, "characters",
          "of a matched or unrecognised line quoted in a report (the rest is cut and marked with an ellipsis)",
          "ours (a crash report's longest real lines are a few hundred characters)"),
])

# --- BUNDLE: the .app / .appex / .systemextension / .dext / .xpc walker (signing/bundle.py). Real app bundles
# hold from a handful to a few hundred thousand files (the largest developer tools) and nest code two or three
# levels deep (app -> login item -> XPC service). The caps stop a crafted tree (deep folders, millions of empty
# files, bundles nested in bundles) from making one input endless; symlinks are never followed, so loops cost
# nothing but a reported note, and at most BUNDLE_MAX_NOTES notes are kept (the rest are counted).
BUNDLE_MAX_FILES = 500_000
BUNDLE_MAX_DIR_DEPTH = 64
BUNDLE_MAX_NESTING = 8
BUNDLE_MAX_NESTED_ITEMS = 10_000
BUNDLE_MAX_NOTES = 100
BUNDLE_MAX_EXECUTABLE_SIZE = 4 * GiB

LIMITS.extend([
    Limit("BUNDLE_MAX_FILES", BUNDLE_MAX_FILES, "entries", "files, folders and symlinks walked in one bundle", "ours"),
    Limit("BUNDLE_MAX_DIR_DEPTH", BUNDLE_MAX_DIR_DEPTH, "levels", "folder depth below the bundle's root", "ours"),
    Limit("BUNDLE_MAX_NESTING", BUNDLE_MAX_NESTING, "levels", "bundles nested in bundles (app > login item > xpc)",
          "ours (real apps nest 2-3 levels)"),
    Limit("BUNDLE_MAX_NESTED_ITEMS", BUNDLE_MAX_NESTED_ITEMS, "items", "nested code items read in one bundle", "ours"),
    Limit("BUNDLE_MAX_NOTES", BUNDLE_MAX_NOTES, "notes", "symlink and layout notes kept for one bundle (all counted)",
          "ours"),
    Limit("BUNDLE_MAX_EXECUTABLE_SIZE", BUNDLE_MAX_EXECUTABLE_SIZE, "bytes",
          "one executable mapped read-only to read its load commands and signature",
          "ours (Mach-O offsets are 32-bit)"),
])

# --- MACH-O: Mach-O and fat headers, load commands and the embedded code signature (signing/macho.py,
# signing/codesig.py, signing/der.py). Real binaries carry a few dozen load commands (the largest apps a few
# hundred), a universal file 2-4 slices, a signature 5-20 blobs (CodeDirectory, up to five alternates,
# requirements, entitlements, DER entitlements, launch constraints, CMS) and entitlements of a few KB.
# We copy out only the headers, load commands and the blobs we decode, never the code hashes.
MACHO_MAX_FAT_ARCHS = 32  # also tells a fat header from a Java class file (major version >= 45)
MACHO_MAX_LOAD_COMMANDS = 65_536
MACHO_MAX_SIZEOFCMDS = 16 * MiB
MACHO_MAX_SIGNATURE_BLOBS = 64
MACHO_MAX_IDENTIFIER_LENGTH = 4096
MACHO_MAX_CMS_SIZE = 4 * MiB
DER_MAX_SIZE = 4 * MiB
DER_MAX_DEPTH = 64
DER_MAX_VALUES = 200_000
DER_MAX_LENGTH_BYTES = 4
DER_MAX_INTEGER_BYTES = 9
MACHO_CODE_DIRECTORY_HEAD = 128

LIMITS.extend([
    Limit("MACHO_MAX_FAT_ARCHS", MACHO_MAX_FAT_ARCHS, "slices", "architectures a fat header may claim",
          "ours (below 45, the lowest Java class-file major version, which shares the 0xcafebabe magic)"),
    Limit("MACHO_MAX_LOAD_COMMANDS", MACHO_MAX_LOAD_COMMANDS, "commands", "load commands in one slice (ncmds)",
          "ours"),
    Limit("MACHO_MAX_SIZEOFCMDS", MACHO_MAX_SIZEOFCMDS, "bytes", "load-command area of one slice (sizeofcmds)",
          "ours"),
    Limit("MACHO_MAX_SIGNATURE_BLOBS", MACHO_MAX_SIGNATURE_BLOBS, "blobs", "index entries of one SuperBlob",
          "ours (codesign writes at most ~15)"),
    Limit("MACHO_MAX_IDENTIFIER_LENGTH", MACHO_MAX_IDENTIFIER_LENGTH, "bytes",
          "a CodeDirectory identifier or team id string (NUL searched this far)", "ours (4 x macOS PATH_MAX)"),
    Limit("MACHO_MAX_CMS_SIZE", MACHO_MAX_CMS_SIZE, "bytes", "a CMS signature blob handed to the CMS parser",
          "ours (real ones with certificate chain and timestamp are ~9 KB)"),
    Limit("DER_MAX_SIZE", DER_MAX_SIZE, "bytes", "one DER entitlements blob", "ours (real ones are < 100 KB)"),
    Limit("DER_MAX_DEPTH", DER_MAX_DEPTH, "levels", "nested DER values in DER entitlements", "ours"),
    Limit("DER_MAX_VALUES", DER_MAX_VALUES, "values", "DER values decoded from one entitlements blob", "ours"),
    Limit("DER_MAX_LENGTH_BYTES", DER_MAX_LENGTH_BYTES, "bytes", "long-form DER length field",
          "ours (4 bytes address any blob a 32-bit SuperBlob can hold)"),
    Limit("DER_MAX_INTEGER_BYTES", DER_MAX_INTEGER_BYTES, "bytes", "one DER INTEGER",
          "plist integers are 64-bit (unsigned 2^64-1 needs 9 bytes)"),
    Limit("MACHO_CODE_DIRECTORY_HEAD", MACHO_CODE_DIRECTORY_HEAD, "bytes",
          "of a CodeDirectory copied to read its header fields (its hashes are never copied)",
          "cs_blobs.h: the largest header (version 0x20600, with the linkage fields) is 104 bytes"),
])

# --- WALK: folders given on the command line (inputs.walk_folder), searched for modules or signing inputs.
# PATH_MAX (4096 on Linux, 1024 on macOS) allows ~2,000 levels of one-letter names; no real tree is near 256.
WALK_MAX_DEPTH = 256

LIMITS.append(Limit("WALK_MAX_DEPTH", WALK_MAX_DEPTH, "levels",
                    "folder levels searched below a PATH argument (deeper folders are reported, not searched)",
                    "ours (real trees are < 30 deep; Python's recursion limit is 1,000)"))

# --- INPUT: how a file named on the command line is opened and told apart (inputs.py, signing/reader.py,
# signing/codesign_text.py). Small files are read whole with one read; larger ones are mapped read-only, so a
# reader slices only the bytes it needs. The form of a file (plist, codesign output, profile, Mach-O) is told
# from its first bytes: a pasted transcript may carry a few KB of other text before the plist.
INPUT_MMAP_THRESHOLD = 64 * KiB
INPUT_SNIFF_WINDOW = 8 * KiB

LIMITS.extend([
    Limit("INPUT_MMAP_THRESHOLD", INPUT_MMAP_THRESHOLD, "bytes",
          "files smaller than this are read with one read(); larger ones are mapped read-only",
          "ours (below a few pages a read is cheaper than a mapping)"),
    Limit("INPUT_SNIFF_WINDOW", INPUT_SNIFF_WINDOW, "bytes",
          "of a file's start examined to tell its form (plist, codesign output, DER, profile, Mach-O)",
          "ours (codesign -d prints a few lines before the plist; a profile's CMS OID sits in its first 64 bytes)"),
])

# --- AUDIT: a table of targets read from standard input (`audit -`) is held in memory once, for pandas and for the
# rows' line numbers; a file is read by pandas in place. A million-row fleet table is about 200 MB.
AUDIT_MAX_STDIN_SIZE = 4 * GiB
LIMITS.append(Limit("AUDIT_MAX_STDIN_SIZE", AUDIT_MAX_STDIN_SIZE, "bytes", "a table of targets read from standard "
                    "input by `audit -`", "ours (a million-row table is about 200 MB)"))

# --- XCODE: Xcode projects, workspaces and .xcconfig files read by `check X.xcodeproj` (xcode/). The largest real
# project.pbxproj files (generated ones of big apps) run to a few MB and a few hundred thousand objects; they nest
# about 6 levels. Xcode itself sets no documented include-depth cap for xcconfig files; real chains are 2-4 deep.
# The expansion caps stop a setting that refers to itself twice per level ($(A) = $(B)$(B) ...) from growing
# exponentially, the way the plist element cap stops a billion-laughs plist.
XCODE_MAX_PBXPROJ_SIZE = 64 * MiB
XCODE_MAX_OBJECTS = 1_000_000
XCODE_MAX_NESTING = 64
XCODE_MAX_TARGET_CONFIGS = 20_000
XCODE_MAX_XCCONFIG_SIZE = 4 * MiB
XCODE_MAX_INCLUDE_DEPTH = 32
XCODE_MAX_XCCONFIG_FILES = 512
XCODE_MAX_WORKSPACE_SIZE = 4 * MiB
XCODE_MAX_WORKSPACE_PROJECTS = 1_000
XCODE_MAX_EXPANSION_DEPTH = 64
XCODE_MAX_SETTING_LENGTH = 64 * 1024

LIMITS.extend([
    Limit("XCODE_MAX_PBXPROJ_SIZE", XCODE_MAX_PBXPROJ_SIZE, "bytes", "one project.pbxproj", "ours"),
    Limit("XCODE_MAX_OBJECTS", XCODE_MAX_OBJECTS, "objects", "objects in one project.pbxproj",
          "ours (large real projects hold tens of thousands)"),
    Limit("XCODE_MAX_NESTING", XCODE_MAX_NESTING, "levels", "nested dictionaries/arrays in a project.pbxproj",
          "ours (Xcode writes about 6; checked before the recursive parser runs)"),
    Limit("XCODE_MAX_TARGET_CONFIGS", XCODE_MAX_TARGET_CONFIGS, "pairs",
          "native targets x build configurations judged in one project", "ours"),
    Limit("XCODE_MAX_XCCONFIG_SIZE", XCODE_MAX_XCCONFIG_SIZE, "bytes", "one .xcconfig file", "ours"),
    Limit("XCODE_MAX_INCLUDE_DEPTH", XCODE_MAX_INCLUDE_DEPTH, "levels", "nested #include in .xcconfig files",
          "ours (real chains are 2-4 deep)"),
    Limit("XCODE_MAX_XCCONFIG_FILES", XCODE_MAX_XCCONFIG_FILES, "files",
          ".xcconfig files read for one project (includes counted each time they are read)", "ours"),
    Limit("XCODE_MAX_WORKSPACE_SIZE", XCODE_MAX_WORKSPACE_SIZE, "bytes", "one contents.xcworkspacedata", "ours"),
    Limit("XCODE_MAX_WORKSPACE_PROJECTS", XCODE_MAX_WORKSPACE_PROJECTS, "entries",
          "FileRef and Group entries in one workspace", "ours"),
    Limit("XCODE_MAX_EXPANSION_DEPTH", XCODE_MAX_EXPANSION_DEPTH, "levels",
          "nested $(VAR) references followed while resolving one build setting", "ours"),
    Limit("XCODE_MAX_SETTING_LENGTH", XCODE_MAX_SETTING_LENGTH, "characters",
          "one build setting's value after $(VAR) expansion", "ours (real values are < 1 KB)"),
])

# --- ARTIFACT: what goes to notarization, read without unpacking (artifacts/: zip, flat pkg = xar + cpio).
# A notarized .zip or .pkg holds one app or a few (tens of thousands of files, a few GB at most). The index of an
# archive (zip central directory, xar TOC) is read whole, so it is capped before it is read; payloads are streamed
# and only the bytes a reader needs are kept (Mach-O headers, load commands and signatures; Info.plists; profiles),
# within ARTIFACT_MAX_KEPT_SIZE. Compressed streams are checked against ARTIFACT_MAX_RATIO once they have expanded
# past ARTIFACT_RATIO_FLOOR (real payloads compress 2-10x; deflate cannot exceed ~1032x, xz and bzip2 go far
# beyond), and against ARTIFACT_MAX_EXPANDED_SIZE in all, so a decompression bomb ends with a limit error.
ARTIFACT_MAX_SIZE = 64 * GiB
ARTIFACT_MAX_ENTRIES = 500_000
ARTIFACT_MAX_INDEX_SIZE = 64 * MiB
ARTIFACT_MAX_NAME_LENGTH = 4096
ARTIFACT_MAX_DEPTH = 128
ARTIFACT_MAX_EXPANDED_SIZE = 64 * GiB
ARTIFACT_MAX_RATIO = 250
ARTIFACT_RATIO_FLOOR = 32 * MiB
ARTIFACT_MAX_KEPT_SIZE = 128 * MiB
ARTIFACT_KEEP_WHOLE_SIZE = 1 * MiB
ARTIFACT_MAX_ENGINE_EVIDENCE = 64 * MiB
ARTIFACT_MAX_SIGNATURE_SIZE = 64 * MiB
ARTIFACT_MAX_LINK_HOPS = 40
ARTIFACT_MAX_XML_ELEMENTS = 2_000_000
ARTIFACT_MAX_XML_DEPTH = 256
ARTIFACT_MAX_PACKAGES = 1_000
ARTIFACT_MAX_NOTES = 100

LIMITS.extend([
    Limit("ARTIFACT_MAX_SIZE", ARTIFACT_MAX_SIZE, "bytes", "one .zip or .pkg file", "ours"),
    Limit("ARTIFACT_MAX_ENTRIES", ARTIFACT_MAX_ENTRIES, "entries",
          "entries in a zip central directory, a xar TOC or a cpio payload (all payloads of a pkg together)",
          "ours (= BUNDLE_MAX_FILES)"),
    Limit("ARTIFACT_MAX_INDEX_SIZE", ARTIFACT_MAX_INDEX_SIZE, "bytes",
          "a zip central directory, or a xar TOC compressed and expanded, read whole", "ours"),
    Limit("ARTIFACT_MAX_NAME_LENGTH", ARTIFACT_MAX_NAME_LENGTH, "bytes", "one member name or symlink target",
          "ours (macOS PATH_MAX is 1024)"),
    Limit("ARTIFACT_MAX_DEPTH", ARTIFACT_MAX_DEPTH, "levels", "path components of a member name, nested xar <file>s",
          "ours"),
    Limit("ARTIFACT_MAX_EXPANDED_SIZE", ARTIFACT_MAX_EXPANDED_SIZE, "bytes",
          "bytes decompressed from one artifact in all (payload streams and members)", "ours"),
    Limit("ARTIFACT_MAX_RATIO", ARTIFACT_MAX_RATIO, "x", "expanded / compressed size of one stream or member",
          "ours (real payloads compress 2-10x)"),
    Limit("ARTIFACT_RATIO_FLOOR", ARTIFACT_RATIO_FLOOR, "bytes",
          "expanded size below which the ratio is not checked (small, very regular files compress well)", "ours"),
    Limit("ARTIFACT_MAX_KEPT_SIZE", ARTIFACT_MAX_KEPT_SIZE, "bytes",
          "bytes of a streamed pkg payload kept in memory (headers, signatures, plists, small files)",
          "ours (the goal: a 500 MB pkg read in under 200 MB of memory)"),
    Limit("ARTIFACT_KEEP_WHOLE_SIZE", ARTIFACT_KEEP_WHOLE_SIZE, "bytes",
          "a Mach-O member up to this size is kept whole; a larger one keeps its headers, signature and engine "
          "evidence only", "ours"),
    Limit("ARTIFACT_MAX_ENGINE_EVIDENCE", ARTIFACT_MAX_ENGINE_EVIDENCE, "bytes",
          "what engine detection reads (string sections, symbol and string tables, export trie) kept from one large "
          "Mach-O member of a zip or pkg", "ours (node's are ~45 MB)"),
    Limit("ARTIFACT_MAX_SIGNATURE_SIZE", ARTIFACT_MAX_SIGNATURE_SIZE, "bytes",
          "one slice's code signature kept from a streamed member", "ours (a 4 GB binary's hashes are ~64 MB)"),
    Limit("ARTIFACT_MAX_LINK_HOPS", ARTIFACT_MAX_LINK_HOPS, "links", "symlinks followed to resolve one member path",
          "MAXSYMLINKS (sys/param.h on Linux and macOS)"),
    Limit("ARTIFACT_MAX_XML_ELEMENTS", ARTIFACT_MAX_XML_ELEMENTS, "elements",
          "XML elements in a xar TOC, Distribution or PackageInfo", "ours"),
    Limit("ARTIFACT_MAX_XML_DEPTH", ARTIFACT_MAX_XML_DEPTH, "levels", "nested XML elements in a TOC", "ours"),
    Limit("ARTIFACT_MAX_PACKAGES", ARTIFACT_MAX_PACKAGES, "packages", "component packages in one product archive",
          "ours"),
    Limit("ARTIFACT_MAX_NOTES", ARTIFACT_MAX_NOTES, "notes", "notes kept for one artifact (all counted)",
          "ours (= BUNDLE_MAX_NOTES)"),
])

# --- ENGINES: which JavaScript/WebAssembly engine a Mach-O slice carries (signing/engines.py, signing/linkedit.py,
# signing/gobuild.py). Node.js 22 holds 593,000 symbols in a 14 MB string table and a 2.8 MB export trie; its
# __TEXT,__const is 38 MB. The detector never reads a table whole: exports are looked up in the trie (a few dozen
# nodes per name) or by binary search, imports are the undefined-symbol and chained-fixup lists (hundreds to a few
# thousand), and the byte searches below stop at their caps, which makes them notes rather than errors (a binary too
# big to search in full still gets its signature read). Malformed tables (offsets past the end, trie cycles) raise.
MACHO_MAX_SYMBOLS = 16_000_000
MACHO_MAX_SYMBOL_NAME = 64 * 1024
ENGINE_MAX_IMPORTS = 1_000_000
ENGINE_MAX_TRIE_STEPS = 100_000
ENGINE_MAX_STRTAB_SCAN = 64 * MiB
ENGINE_MAX_SCAN_BYTES = 32 * MiB
ENGINE_MAX_CRATE_PATHS = 20_000
GO_MAX_BUILDINFO_SIZE = 4 * MiB
GO_MAX_MODULES = 100_000

LIMITS.extend([
    Limit("MACHO_MAX_SYMBOLS", MACHO_MAX_SYMBOLS, "symbols",
          "LC_SYMTAB entries of one slice searched for engine names (a larger table is not searched, and noted)",
          "ours (Node.js 22: 593,000; unstripped Chromium frameworks a few million)"),
    Limit("MACHO_MAX_SYMBOL_NAME", MACHO_MAX_SYMBOL_NAME, "bytes",
          "one symbol name or export-trie path read (NUL searched this far)", "ours (mangled C++ names stay < 4 KB)"),
    Limit("ENGINE_MAX_IMPORTS", ENGINE_MAX_IMPORTS, "imports",
          "undefined symbols and chained-fixup imports examined in one slice (the rest noted)", "ours"),
    Limit("ENGINE_MAX_TRIE_STEPS", ENGINE_MAX_TRIE_STEPS, "nodes", "export-trie nodes visited in one lookup",
          "ours (a lookup visits at most one node per byte of the name)"),
    Limit("ENGINE_MAX_STRTAB_SCAN", ENGINE_MAX_STRTAB_SCAN, "bytes",
          "string-table bytes searched for local symbol names of engines (the rest noted)", "ours"),
    Limit("ENGINE_MAX_SCAN_BYTES", ENGINE_MAX_SCAN_BYTES, "bytes",
          "bytes of __TEXT,__cstring and __TEXT,__const searched for engine strings and Rust crate paths per slice",
          "ours (Rust's panic paths sit in __TEXT,__const, under 5 MB in the wasmtime/wasmer builds measured)"),
    Limit("ENGINE_MAX_CRATE_PATHS", ENGINE_MAX_CRATE_PATHS, "paths",
          "cargo registry paths examined for crate names per slice", "ours"),
    Limit("GO_MAX_BUILDINFO_SIZE", GO_MAX_BUILDINFO_SIZE, "bytes", "Go build-info section and strings read",
          "ours (real ones are 1-50 KB)"),
    Limit("GO_MAX_MODULES", GO_MAX_MODULES, "lines", "lines of Go module information read", "ours"),
])

# memtrace: the strace log of one runtime compiling and running a small module (notebook 04). A few
# hundred lines in practice; a runaway trace is cut at this size and said to be cut.
MEMTRACE_MAX_LOG_SIZE = 16 * MiB
LIMITS.append(Limit("MEMTRACE_MAX_LOG_SIZE", MEMTRACE_MAX_LOG_SIZE, "bytes",
                    "strace log of one traced runtime run read back", "ours (a real run writes < 64 KiB)"))
