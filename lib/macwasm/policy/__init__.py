"""The policy layer: fact tables, rules, the engine, the advisor, the log explainer.

Notebook API (imported lazily, so ``import macwasm.policy`` stays cheap for the CLI):

- ``check(paths=(), *, entitlements=None, product_type=None, platform="macos",
  distribution="developer-id", runtime=None, arch="universal", module_source=None,
  module_kind=None) -> list[TargetResult]``
- ``advise(*, entitlements=None, product_type=None, ...) -> Plan``
- ``audit(frame, *, base_dir=None) -> pandas.DataFrame``
- ``explain(...)`` (the log explainer, ``macwasm.policy.explain``)
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "check": "macwasm.policy.checker",
    "advise": "macwasm.policy.advisor",
    "audit": "macwasm.policy.audit_table",
    "audit_rowwise": "macwasm.policy.audit_table",
    "read_table": "macwasm.policy.audit_table",
    "evaluate": "macwasm.policy.engine",
    "Target": "macwasm.policy.target",
    "explain": "macwasm.policy.explain",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'macwasm.policy' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
