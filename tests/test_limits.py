"""Every cap a reader enforces is documented in the one ``LIMITS`` table, with its value and source."""

from __future__ import annotations

from macwasm import limits


def test_every_limit_constant_is_in_the_documented_table():
    constants = {
        name: value
        for name, value in vars(limits).items()
        if name.isupper() and isinstance(value, int) and name not in ("MiB", "GiB", "KiB")
    }
    documented = {lim.name: lim.value for lim in limits.LIMITS}
    missing = sorted(set(constants) - set(documented))
    assert not missing, f"limits without a row in LIMITS: {missing}"
    wrong = sorted(n for n in constants if documented[n] != constants[n])
    assert not wrong, f"LIMITS rows whose value differs from the constant: {wrong}"


def test_every_documented_limit_is_positive_and_has_a_source():
    names = [lim.name for lim in limits.LIMITS]
    assert len(names) == len(set(names)), "a limit is documented twice"
    for lim in limits.LIMITS:
        assert lim.value > 0 and lim.unit and lim.caps and lim.source, lim


def test_every_limit_is_used_by_name_where_it_applies():
    """Changing a limit is one edit in limits.py: each cap is read by name (never repeated as a literal)."""
    from pathlib import Path

    lib = Path(limits.__file__).resolve().parent
    sources = "\n".join(p.read_text() for p in lib.rglob("*.py") if p.name != "limits.py")
    unused = [lim.name for lim in limits.LIMITS if lim.name not in sources]
    assert not unused, f"limits no reader uses: {unused}"
