"""Every closed vocabulary of macwasm, named once: the readers produce these values, the tables are
checked against them, and the engine, the reports and the CLI compare with the names.

A value that carries meaning (a signature kind, a verdict, an error category, a strategy) used to be
written as a literal wherever it was needed; a typo in one of those places was a silent wrong
answer. Here each value has one constant, and each vocabulary one tuple (in the order reports and
``--help`` show it). Nothing here imports macwasm at import time, so every module may import it.

One vocabulary is a fact, not a name: the product types are the rows of ``data/product_types.csv``
(:func:`product_types`), so a reviewer who adds a product type adds one row and every check, choice
and table that names product types follows. ``PRODUCT_TYPES`` is that list, read when first asked.
"""

from __future__ import annotations

from functools import lru_cache

# ------------------------------------------------------------------ error categories (MacwasmError.category)
#: the input is broken
MALFORMED = "malformed"
#: the input is fine but larger than macwasm is willing to read (a cap of macwasm.limits)
LIMIT = "limit"
#: the input could not be read at all (missing, unreadable, vanished mid-batch)
IO = "io"
#: the input is of a form macwasm does not read (a .dmg, a folder given as bytes)
UNSUPPORTED = "unsupported"
#: the command line or a call's arguments are wrong (an unknown runtime, a mistyped option value)
USAGE = "usage"
#: macwasm itself failed (a bug): reported as a record, never as a traceback
INTERNAL = "internal"
#: macwasm itself is incomplete (a table missing from the package, an extra not installed)
INSTALLATION = "installation"
ERROR_CATEGORIES = (MALFORMED, LIMIT, IO, UNSUPPORTED, USAGE, INTERNAL, INSTALLATION)
#: categories that say nothing about the input's content: exit code 2 (usage or I/O), not 1 (findings)
NOT_A_FINDING = (IO, USAGE, INTERNAL, INSTALLATION)

# ------------------------------------------------------------------ what a signing input is (SigningFacts.source)
XML_PLIST = "xml-plist"
BINARY_PLIST = "binary-plist"
CODESIGN_OUTPUT = "codesign-output"
DER_ENTITLEMENTS = "der-entitlements"
PROVISIONING_PROFILE = "provisioning-profile"
MACH_O = "mach-o"
BUNDLE = "bundle"
SOURCES = (XML_PLIST, BINARY_PLIST, CODESIGN_OUTPUT, DER_ENTITLEMENTS, PROVISIONING_PROFILE, MACH_O, BUNDLE)
#: the sources that hold entitlements and nothing else (no signature, no profile, no nested code)
ENTITLEMENT_SOURCES = (XML_PLIST, BINARY_PLIST, CODESIGN_OUTPUT, DER_ENTITLEMENTS)

# ------------------------------------------------------------------ signatures
UNSIGNED = "unsigned"
ADHOC = "adhoc"
LINKER_SIGNED = "linker-signed"
SIGNED = "signed"
#: signature kinds, weakest first
SIGNATURE_KINDS = (UNSIGNED, ADHOC, LINKER_SIGNED, SIGNED)
#: kinds that carry no identity: no team, no timestamp (the linker's signature is an ad hoc one)
AD_HOC_KINDS = (ADHOC, LINKER_SIGNED)

ABSENT = "absent"
EMPTY = "empty"
PRESENT = "present"
#: what an entitlements blob or a CMS blob of a signature looked like: absent, present with nothing, or with content
BLOB_STATES = (ABSENT, EMPTY, PRESENT)

#: how strongly one engine signal, or a detection made of several, says that the engine is there
ENGINE_CONFIDENCES = ("high", "medium", "low")
#: where a detected engine's code lives, nearest first: in this binary, in a library it links, or only named by
#: the symbols it imports (a plug-in or addon that runs inside a host that provides the engine)
ENGINE_LOCATIONS = ("embedded", "linked", "imported")

# ------------------------------------------------------------------ findings and verdicts
ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
#: what ``--fail-on`` takes: the lowest severity that fails a run
FAIL_ON = (ERROR, WARNING)

PASS = "pass"
WARN = "warn"
FAIL = "fail"
#: a target's verdict, best first
VERDICTS = (PASS, WARN, FAIL)
#: what a report says of an input or a table row that could not be judged at all (next to the verdicts)
UNJUDGED = "error"
REPORT_VERDICTS = (*VERDICTS, UNJUDGED)

YES = "yes"
NO = "no"
UNCONFIRMED = "unconfirmed"
#: how we know a fact, strongest first: read in the runtime's (or the kernel's) source, documented by
#: Apple (documents, DTS), observed in a shipping product or a report, inferred from other facts, or
#: unconfirmed (only a test on a Mac could settle it). A finding is as strong as its weakest fact.
GRADES = ("code", "apple", "observed", "inferred", UNCONFIRMED)
#: what a finding says will happen to the product (rules.csv ``predicts``)
NOTARIZATION_REJECTION = "notarization-rejection"
PREDICTIONS = ("launch-refusal", "crash", "load-failure", NOTARIZATION_REJECTION, "store-rejection", "slower", "none")

# ------------------------------------------------------------------ runtimes and where they run
INTERPRETER = "interpreter"
MAP_JIT = "map-jit"
UNSIGNED_MEMORY = "unsigned-memory"
AOT_IN_BINARY = "aot-in-binary"
OUT_OF_PROCESS = "out-of-process"
NOT_AVAILABLE = "unsupported"
#: how a runtime makes code run, per architecture ("a+b": it needs both; "a|b": either suffices, the engine
#: takes the path whose key the binary holds)
STRATEGIES = (INTERPRETER, MAP_JIT, UNSIGNED_MEMORY, AOT_IN_BINARY, OUT_OF_PROCESS, NOT_AVAILABLE)
#: strategies that create executable memory in the process (the JIT rules apply)
JIT_STRATEGIES = (MAP_JIT, UNSIGNED_MEMORY)

IN_PROCESS = "in-process"
XPC_SERVICE_PLACEMENT = "xpc-service"
LAUNCHD_DAEMON = "launchd-daemon"
LAUNCHD_AGENT = "launchd-agent"
CONTAINER_APP = "container-app"
#: where a runtime can run for a product (the keys of data/placements.csv, which says for whom each is open)
PLACEMENTS = (IN_PROCESS, XPC_SERVICE_PLACEMENT, LAUNCHD_DAEMON, LAUNCHD_AGENT, CONTAINER_APP)

# ------------------------------------------------------------------ what the engine judges (Target.input_form)
FORM_ENTITLEMENTS = "entitlements"
FORM_BINARY = "binary"
FORM_BUNDLE = "bundle"
FORM_PROFILE = "profile"
FORM_MODULE = "module"
FORM_OPTIONS = "options"
FORM_TABLE = "table"
FORM_XCODE_PROJECT = "xcode-project"
#: what the input was: decides which facts are known (a plist has no signature, a bundle has)
INPUT_FORMS = (FORM_ENTITLEMENTS, FORM_BINARY, FORM_BUNDLE, FORM_PROFILE, FORM_MODULE, FORM_OPTIONS, FORM_TABLE,
               FORM_XCODE_PROJECT)

# ------------------------------------------------------------------ modules
CORE_MODULE = "core-module"
COMPONENT = "component"
UNKNOWN_VERSION = "unknown-version"
NOT_WASM = "not-wasm"
#: what a .wasm file is (the first two are the kinds a runtime may be asked to load)
MODULE_KINDS = (CORE_MODULE, COMPONENT, UNKNOWN_VERSION, NOT_WASM)
LOADABLE_MODULE_KINDS = MODULE_KINDS[:2]

BUNDLED = "bundled"
DOWNLOADED = "downloaded"
MODULE_SOURCES = (BUNDLED, DOWNLOADED)

# ------------------------------------------------------------------ the target
DEVELOPER_ID = "developer-id"
APP_STORE = "app-store"
DEVELOPMENT = "development"
DISTRIBUTIONS = (DEVELOPER_ID, APP_STORE, DEVELOPMENT)

MACOS = "macos"
IOS = "ios"
PLATFORMS = (MACOS, IOS)

ARM64 = "arm64"
X86_64 = "x86_64"
UNIVERSAL = "universal"
#: the architectures a Mac runs natively, Apple silicon first
ARCHES = (ARM64, X86_64)
#: what ``--arch`` takes: one architecture, or both (universal)
ARCH_CHOICES = (*ARCHES, UNIVERSAL)
#: ``any`` in a fact table's arch column: the fact holds on every architecture
ANY_ARCH = "any"

# product types the code itself names (the list of them all is the table's, below)
APP = "app"
XPC_SERVICE = "xpc-service"
HELPER_TOOL = "helper-tool"
DAEMON = "daemon"
COMMAND_LINE_TOOL = "command-line-tool"
#: the library role: code that runs with its host's entitlements (product_types.csv's framework row)
FRAMEWORK = "framework"

#: the one default target: what a product is checked as when nothing says otherwise
DEFAULT_PRODUCT_TYPE = APP
DEFAULT_PLATFORM = MACOS
DEFAULT_DISTRIBUTION = DEVELOPER_ID
DEFAULT_ARCH = UNIVERSAL

# ------------------------------------------------------------------ product types: a fact table, not a literal

#: the table the product types are the rows of
PRODUCT_TYPES_TABLE = "product_types.csv"


def product_types() -> tuple[str, ...]:
    """The product types, in table order: the ``product_type`` column of ``data/product_types.csv``.

    Read once per table folder (``MACWASM_DATA`` may point at a reviewer's copy); a repeated or
    empty name is refused with the line, like any other table fault.
    """
    from macwasm.datafiles import table_key

    return _product_types(table_key())


@lru_cache(maxsize=4)
def _product_types(_key: str) -> tuple[str, ...]:
    from macwasm.datafiles import read_rows, table_error

    names: list[str] = []
    for line, row in read_rows(PRODUCT_TYPES_TABLE, ("product_type",)):
        name = row["product_type"]
        if not name or name in names:
            raise table_error(PRODUCT_TYPES_TABLE, f"product_type {name!r} is empty or repeated", line)
        names.append(name)
    return tuple(names)


def __getattr__(name: str) -> tuple[str, ...]:
    """``PRODUCT_TYPES``: :func:`product_types`, read when first asked (importing this module reads nothing)."""
    if name == "PRODUCT_TYPES":
        return product_types()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
