"""The options that describe what is shipped, shared by ``check`` and ``advise``.

Each falls back to the project's ``[tool.macwasm]`` (``product_type``, ``runtime``, ``arch``,
``distribution``) and then to the one default target of :mod:`macwasm.vocabulary`; an option given
on the command line wins.
"""

from __future__ import annotations

import argparse
from typing import Any

from macwasm.cli.common import settings_of
from macwasm.policy.target import split_runtimes
from macwasm.vocabulary import (
    ARCH_CHOICES,
    DEFAULT_ARCH,
    DEFAULT_DISTRIBUTION,
    DEFAULT_PLATFORM,
    DISTRIBUTIONS,
    LOADABLE_MODULE_KINDS,
    MODULE_SOURCES,
    PLATFORMS,
    product_types,
)


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--product-type", choices=product_types(), default=None,
                        help="what the executable is (default: inferred from the bundle or the entitlements, or "
                        "[tool.macwasm] product_type)")
    parser.add_argument("--platform", choices=PLATFORMS, default=DEFAULT_PLATFORM, help="the platform it ships for")
    parser.add_argument("--distribution", choices=DISTRIBUTIONS, default=None,
                        help=f"how it ships (default: {DEFAULT_DISTRIBUTION}, or [tool.macwasm] distribution)")
    parser.add_argument("--runtime", action="append", default=None, metavar="NAME_OR_STRATEGY",
                        help="a runtime (macwasm runtime lists them: wasmtime, wasmtime-pulley, wamr-aot, "
                        "electron, ...) or a strategy (interpreter, map-jit, unsigned-memory, aot-in-binary); "
                        "repeat it (or give a comma list) when one binary runs several engines: the entitlements "
                        "needed are the union (default: the engines found in a binary, or [tool.macwasm] runtime)")
    parser.add_argument("--module-source", choices=MODULE_SOURCES, default=None,
                        help="where the modules come from (default: bundled when the bundle holds .wasm files, else "
                        "not judged)")
    parser.add_argument("--module-kind", choices=LOADABLE_MODULE_KINDS, default=None,
                        help="what the modules are, for modules not at hand (default: from the .wasm files read)")
    parser.add_argument("--arch", choices=ARCH_CHOICES, default=None,
                        help=f"architectures that must work (default: {DEFAULT_ARCH} = arm64 and x86_64, or "
                        "[tool.macwasm] arch)")
    parser.add_argument("--hardened-runtime", choices=("yes", "no"), default=None,
                        help="whether the binary is signed with the Hardened Runtime (-o runtime), for inputs that "
                        "carry no signature (a plist); a signature read from a binary wins (default: not said)")
    parser.add_argument("--entitlement", action="append", default=[], metavar="KEY[=VALUE]",
                        help="an entitlement the target holds, as if read from a file (repeatable; "
                        "VALUE: true/false, a,b,c list, or text; default: none)")


def target_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The target the options describe, the project's settings filling what the command line leaves open."""
    settings = settings_of(args)
    runtime = args.runtime if args.runtime is not None else list(settings.runtime)
    return {"product_type": args.product_type or settings.product_type, "platform": args.platform,
            "distribution": args.distribution or settings.distribution or DEFAULT_DISTRIBUTION,
            "runtime": split_runtimes(runtime), "arch": args.arch or settings.arch or DEFAULT_ARCH,
            "module_source": args.module_source, "module_kind": args.module_kind,
            "hardened_runtime": None if args.hardened_runtime is None else args.hardened_runtime == "yes"}
