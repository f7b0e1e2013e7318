"""The advisor answers the forum team's question right: ranking, placements, storage, the written fix.

Every plan is checked against what a user acts on: the recommended option passes, needs no more than
a passing alternative, fits the product (no XPC service for a system extension, no JIT route for a
DriverKit driver), stores downloaded modules where that product's process can read them, and the
files it writes pass ``check`` with the runtime it recommends.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from macwasm.policy import check
from macwasm.policy.advisor import IN_PROCESS, RANKING, advise
from macwasm.policy.fixes import write_plan
from macwasm.policy.tables import DISTRIBUTIONS, PRODUCT_TYPES, product_types, runtimes
from macwasm.signing.plist import read_entitlements_file

REPO = Path(__file__).resolve().parents[1]
FORUM = REPO / "tests" / "fixtures" / "plists" / "forum-thread-sysext.entitlements"
COMPONENT = REPO / "data" / "modules" / "component-wasi-p2.wasm"
CORE = REPO / "data" / "modules" / "wasi-preview1-command.wasm"
THREADS = REPO / "data" / "modules" / "threads-shared-memory.wasm"
UNS = "com.apple.security.cs.allow-unsigned-executable-memory"
JIT = "com.apple.security.cs.allow-jit"
SANDBOX = "com.apple.security.app-sandbox"
SYSEX = [p for p, row in product_types().items() if row.is_system_extension == "yes"]


def forum_keys() -> dict[str, Any]:
    keys, _ = read_entitlements_file(FORUM)
    return keys


@pytest.mark.parametrize("kind", [None, "core-module", "component"])
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("product_type", PRODUCT_TYPES)
def test_rank_one_passes_and_needs_no_more_than_a_passing_alternative(product_type: str, distribution: str,
                                                                        kind: str | None) -> None:
    plan = advise(product_type=product_type, distribution=distribution, module_kind=kind)
    passing = [o for o in plan.options if o.verdict == "pass"]
    assert [o.rank for o in plan.options] == list(range(1, len(plan.options) + 1))  # numbering never skips
    if not passing:
        assert plan.recommended is None and plan.why_none
        return
    best = plan.options[0]
    assert plan.recommended is best and best.verdict == "pass"
    assert all(b.verdict == "pass" for b in best.binaries)
    assert best.strength <= min(o.strength for o in passing)
    assert len(best.jit_keys) <= min(len(o.jit_keys) for o in passing if o.strength == best.strength)


def test_the_ranking_is_stated() -> None:
    plan = advise()
    assert plan.ranking == RANKING and "fewest and weakest" in RANKING and "in process before" in RANKING
    assert plan.to_dict()["ranking"] == RANKING


def test_an_option_needing_no_entitlement_beats_wasmtime_with_the_legacy_key() -> None:
    for plan in (advise(), advise(product_type="app", runtime="wasmtime", entitlements=[UNS])):
        assert plan.recommended is not None and plan.recommended.entitlements == []
        unsigned = [o for o in plan.options if UNS in o.entitlements and o.verdict == "pass"]
        assert unsigned and all(o.rank > plan.recommended.rank for o in unsigned)


def test_an_app_store_app_is_judged_after_the_plan_adds_the_app_sandbox() -> None:
    plan = advise(product_type="app", distribution="app-store", runtime="wamr-aot")
    assert plan.as_given.verdict == "fail" and "MW152" in plan.as_given.rule_ids
    best = plan.recommended
    assert best is not None and best.verdict == "pass" and best.rank == 1
    app = best.binaries[0]
    assert SANDBOX in app.entitlements and any(c.key == SANDBOX and c.action == "add" for c in app.changes)
    assert all(o.verdict != "fail" for o in plan.options[: len([p for p in plan.options if p.verdict == "pass"])])


@pytest.mark.parametrize("product_type", SYSEX)
def test_a_system_extension_is_never_offered_an_xpc_service(product_type: str) -> None:
    plan = advise(product_type=product_type, module_source="downloaded")
    assert plan.options
    assert not [o for o in plan.options if o.placement == "xpc-service"]
    for o in plan.options:
        roles = [b.role for b in o.binaries]
        assert "container app" in roles  # a system extension never ships alone


def test_a_driverkit_driver_has_no_jit_route_and_no_separate_process() -> None:
    plan = advise(product_type="driverkit-driver")
    assert {o.placement for o in plan.options} == {IN_PROCESS}
    assert all(not o.entitlements for o in plan.options if o.verdict == "pass")
    wamr = [o for o in plan.options if o.runtime == "wamr-interp"]
    assert wamr and all(o.verdict == "fail" for o in wamr)  # its MAP_JIT linear memory needs allow-jit on arm64


def test_an_endpoint_security_extension_with_a_jit_is_offered_a_daemon_or_the_container_app() -> None:
    plan = advise(product_type="endpoint-security-extension", module_kind="component")
    separate = {o.placement for o in plan.options if o.runtime == "wasmtime" and o.verdict == "pass"}
    assert separate == {"launchd-daemon", "container-app"}
    daemon = next(o for o in plan.options if o.runtime == "wasmtime" and o.placement == "launchd-daemon")
    helper = next(b for b in daemon.binaries if b.role == "helper daemon")
    assert helper.product_type == "daemon" and helper.entitlements == {UNS: True}
    ext = next(b for b in daemon.binaries if b.role == "the extension")
    assert UNS not in ext.entitlements and not ext.runtimes
    assert "SMAppService" in daemon.needs and "MachServices" in daemon.needs and daemon.evidence.startswith("http")


@pytest.mark.parametrize("product_type", ["endpoint-security-extension", "network-extension", "daemon"])
def test_a_root_process_stores_downloaded_modules_outside_home(product_type: str) -> None:
    plan = advise(product_type=product_type, module_source="downloaded")
    where = plan.modules["where"]
    assert "/Library/Application Support/" in where and not where.startswith("~")
    assert plan.modules["handoff"] and plan.modules["integrity"] and "root" in plan.modules["owner"]


def test_a_user_app_and_a_sandboxed_app_store_differently() -> None:
    user = advise(product_type="app", module_source="downloaded").modules
    sandboxed = advise(product_type="app", distribution="app-store", module_source="downloaded").modules
    assert user["where"].startswith("~/Library/Application Support/")
    assert "Containers" in sandboxed["where"] and user["storage_case"] != sandboxed["storage_case"]


def test_the_plan_reads_the_module_file_it_is_given() -> None:
    component = advise(product_type="network-extension", module=str(COMPONENT))
    assert component.target["module_kind"] == "component"
    assert runtimes()[component.recommended.runtime].component_model == "yes"
    threads = advise(product_type="app", module=str(THREADS))
    refused = [o for o in threads.options if o.runtime == "wasm3"]
    assert refused and all(o.verdict == "fail" for o in refused)
    assert any("MW146" in r for o in refused for r in o.reasons)


def test_findings_are_listed_once_per_fault() -> None:
    """Two architectures with the same fault give one finding naming both; a rule id is listed once per row."""
    import pandas as pd

    from macwasm.policy import audit

    plan = advise(product_type="driverkit-driver")
    for o in plan.options:
        assert len(o.reasons) == len(set(o.reasons))
    (result,) = check(entitlements=["com.apple.developer.driverkit"], product_type="driverkit-driver",
                      runtime="wasmtime")
    mw114 = [f for f in result.findings if f.rule_id == "MW114"]
    assert len(mw114) == 1 and "arm64, x86_64" in mw114[0].message
    frame = pd.DataFrame([{"name": "dext", "product_type": "driverkit-driver", "runtime": "wamr-llvm-jit",
                           "entitlements": "com.apple.developer.driverkit"}])
    ids = audit(frame)["rule_ids"].iloc[0].split(";")
    assert len(ids) == len(set(ids)) and "MW114" in ids


def test_when_nothing_passes_the_plan_says_why(tmp_path: Path, data_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for table in data_dir.glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    path = tmp_path / "runtime_facts.csv"
    rows = list(csv.DictReader(path.open()))
    for row in rows:  # pretend no runtime can load a component
        if row["fact"] == "component_model" and row["value"] in ("yes", "experimental", "unconfirmed"):
            row["value"] = "no"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    plan = advise(product_type="app", module_kind="component")
    assert plan.recommended is None
    assert plan.why_none and "MW141" in plan.why_none


# ------------------------------------------------------------------ the forum case, end to end

@pytest.mark.parametrize("module", [COMPONENT, CORE], ids=["component", "core-module"])
def test_the_forum_case_written_files_pass_and_the_runtime_loads_the_module(tmp_path: Path, module: Path) -> None:
    plan = advise(entitlements=forum_keys(), product_type="endpoint-security-extension",
                  module_source="downloaded", module=str(module))
    assert plan.as_given.verdict == "fail" and "MW101" in plan.as_given.rule_ids
    best = plan.recommended
    assert best is not None and best.verdict == "pass" and not best.entitlements
    info = runtimes()[best.runtime]
    if module is COMPONENT:
        assert info.component_model == "yes"
    written = write_plan(plan, tmp_path)
    assert {Path(w.path).name for w in written} == {"Extension.entitlements", "ContainerApp.entitlements"}
    readme = (tmp_path / "README.md").read_text()
    assert "Option #1" in readme and "MW101" not in readme.split("## container app")[0].split("Verdict:")[0]
    for w in written:
        (result,) = check([w.path], product_type=w.product_type, runtime=list(w.runtimes) or None,
                          module_source="downloaded", modules=[str(module)] if w.runtimes else ())
        assert result.verdict == "pass", [(f.rule_id, f.message) for f in result.findings]
    ext, _ = read_entitlements_file(tmp_path / "Extension.entitlements")
    app, _ = read_entitlements_file(tmp_path / "ContainerApp.entitlements")
    assert "com.apple.developer.endpoint-security.client" in ext and UNS not in ext
    assert "com.apple.developer.system-extension.install" in app
    assert "com.apple.developer.endpoint-security.client" not in app


def test_writing_never_replaces_a_file(tmp_path: Path) -> None:
    from macwasm.errors import InputError

    plan = advise(entitlements=forum_keys(), product_type="endpoint-security-extension")
    write_plan(plan, tmp_path)
    before = (tmp_path / "Extension.entitlements").read_bytes()
    with pytest.raises(InputError, match="exists"):
        write_plan(plan, tmp_path)
    assert (tmp_path / "Extension.entitlements").read_bytes() == before


def test_the_forum_app_given_as_one_binary_is_split_into_container_and_extension() -> None:
    plan = advise(entitlements=forum_keys(), product_type="app")
    assert plan.target["host_product_type"] == "endpoint-security-extension" and plan.notes
    roles = {b.role for b in plan.recommended.binaries}
    assert roles == {"the extension", "container app"}


def test_check_write_fixed_writes_what_the_findings_change(tmp_path: Path, cli) -> None:
    out = tmp_path / "fixed"
    proc = cli("check", str(FORUM), "--runtime", "wasm3", "--write-fixed", str(out))
    assert proc.returncode == 1
    written = out / "ForumThreadSysext.entitlements"
    keys, _ = read_entitlements_file(written)
    assert UNS not in keys and "com.apple.developer.endpoint-security.client" in keys
    assert "MW101" in (out / "README.md").read_text()
    again = cli("check", str(written), "--runtime", "wasm3", "--product-type", "app")
    assert again.returncode == 0, again.stdout


def test_advise_cli_writes_the_fix_and_states_the_ranking(tmp_path: Path, cli) -> None:
    args = ["advise", "--product-type", "endpoint-security-extension", "--module-source", "downloaded",
            "--module", str(COMPONENT), "--write", str(tmp_path / "fix")]
    for key in ("com.apple.developer.endpoint-security.client", UNS):
        args += ["--entitlement", key]
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "Ranked by:" in proc.stdout and "recommended: wasmtime-pulley" in proc.stdout
    assert "…" not in proc.stdout and all(len(line) <= 100 for line in proc.stdout.splitlines())
    assert (tmp_path / "fix" / "Extension.entitlements").is_file()
    assert (tmp_path / "fix" / "README.md").is_file()


def test_a_misspelt_key_is_respelt_by_the_plan_and_by_write_fixed(tmp_path: Path, cli) -> None:
    """A typo'd key must not make every option fail: the fix moves its value to the key it was meant to be."""
    typo = "com.apple.security.network.clinet"
    plan = advise(entitlements=[SANDBOX, typo, "com.apple.security.cs.allow-jti"], product_type="app",
                  runtime="wamr-interp")
    assert plan.recommended is not None
    host = plan.recommended.binaries[0]
    assert "com.apple.security.network.client" in host.entitlements and typo not in host.entitlements
    assert "com.apple.security.cs.allow-jti" not in host.entitlements
    assert {(c.key, c.action, c.rule_id) for c in host.changes} >= {
        (typo, "remove", "MW171"), ("com.apple.security.network.client", "add", "MW171")}
    # an array-valued key keeps its value under the right spelling
    source = tmp_path / "groups.entitlements"
    source.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
                       b"<key>com.apple.security.app-sandbox</key><true/>"
                       b"<key>com.apple.security.application-group</key><array><string>TEAM.group</string>"
                       b"</array></dict></plist>")
    proc = cli("check", str(source), "--product-type", "app", "--write-fixed", str(tmp_path / "fixed"))
    assert "MW171" in proc.stdout, proc.stdout
    [written] = (tmp_path / "fixed").glob("*.entitlements")
    keys, _ = read_entitlements_file(written)
    assert keys == {SANDBOX: True, "com.apple.security.application-groups": ["TEAM.group"]}
    again = cli("check", str(written), "--product-type", "app", "--fail-on", "warning")
    assert again.returncode == 0, again.stdout


def test_a_misspelt_relaxation_a_system_extension_may_not_hold_is_dropped_not_respelt() -> None:
    plan = advise(entitlements=["com.apple.developer.endpoint-security.client",
                                "com.apple.security.cs.disable-library-validatoin"],
                  product_type="endpoint-security-extension", runtime="wasm3")
    assert plan.recommended is not None
    host = plan.recommended.binaries[0]
    assert not any("library-valid" in k for k in host.entitlements)


def test_advise_ignore_leaves_a_rule_out_of_every_judgement(cli) -> None:
    args = ["advise", "--product-type", "app", "--entitlement", "com.apple.security.get-task-allow",
            "--runtime", "wasm3", "--format", "json"]
    full = json.loads(cli(*args).stdout)
    ignored = json.loads(cli(*args, "--ignore", "MW120").stdout)
    assert "MW120" in {f["rule_id"] for f in full["as_given"]} and full["verdict"] == "fail"
    assert "MW120" not in {f["rule_id"] for f in ignored["as_given"]} and ignored["verdict"] == "pass"
    assert ignored["target"]["ignored_rules"] == ["MW120"]
    assert cli(*args, "--ignore", "MW999").returncode == 2
