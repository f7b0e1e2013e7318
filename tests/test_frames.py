"""The views of the fact tables that notebooks and the site show: the same rows the checker uses."""

from __future__ import annotations

from macwasm.policy.frames import entitlements_frame, frame, needs_text, runtime_facts_frame, runtime_matrix
from macwasm.policy.tables import ARCHES, runtimes


def test_frame_reads_a_table_as_strings() -> None:
    table = frame("rules")
    assert "MW101" in set(table["id"]) and (table.map(lambda v: isinstance(v, str))).all().all()


def test_the_runtime_matrix_has_every_engine_on_every_arch_with_its_evidence() -> None:
    m = runtime_matrix()
    engines = [r for r in runtimes().values() if not r.is_strategy_only]
    assert len(m) == len(engines) * len(ARCHES)
    assert m["evidence"].str.startswith("https://").all() and m["grade"].isin(["code", "apple", "observed",
                                                                               "inferred", "unconfirmed"]).all()
    wamr = m[(m["runtime"] == "wamr-interp") & (m["arch"] == "arm64")].iloc[0]
    assert wamr["strategy"] == "map-jit" and wamr["needs"] == "com.apple.security.cs.allow-jit"


def test_needs_text_says_both_or_either() -> None:
    assert needs_text("interpreter") == "none"
    assert " + " in needs_text("map-jit+unsigned-memory") and " or " in needs_text("map-jit|unsigned-memory")
    assert needs_text("unsupported") == "not available"


def test_fact_and_entitlement_views_carry_links() -> None:
    cm = runtime_facts_frame("component_model")
    assert set(cm.columns) >= {"runtime", "component_model", "grade", "evidence"}
    assert cm.set_index("runtime").at["wasmtime-pulley", "component_model"] == "yes"
    ents = entitlements_frame()
    assert ents["evidence"].str.startswith("http").all()


def test_a_fact_stated_per_architecture_has_a_row_per_architecture() -> None:
    api = runtime_facts_frame("jit_write_api").set_index(["runtime", "arch"])
    assert api.at[("wamr-aot", "arm64"), "jit_write_api"] == "pthread_jit_write_protect_np"
    assert api.at[("wamr-aot", "x86_64"), "jit_write_api"] == "n/a"
    assert api.at[("wasmtime", "any"), "jit_write_api"] == "n/a"
