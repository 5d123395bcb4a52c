"""Blind indexes from Python: every golden vector (FORMAT.md 13.8), the
definition's surface, text and binary values, lookups across a rotation,
rewrap with the index, and the sizing helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import pytest

import strongroom
from test_strongroom import GOLDEN, keyring_of


def index_of(j: Dict[str, Any]) -> strongroom.BlindIndex:
    slow: Optional[Tuple[int, int, int]] = None
    if j["slow"] is not None:
        slow = (j["slow"]["m_cost_kib"], j["slow"]["t_cost"], j["slow"]["p_cost"])
    fields = [(f["name"], f["transforms"]) for f in j["fields"]]
    return strongroom.BlindIndex(j["name"], key=j["key_name"], bits=j["bits"], fields=fields, slow=slow)


def run_index_vector(v: Dict[str, Any]) -> bytes:
    index = index_of(v["index"])
    assert index.definition_encoding().hex() == v["definition_hex"]
    if v["operation"] == "parse":
        value: Union[bytes, str] = v["value_text"] if "value_text" in v else bytes.fromhex(v["value_hex"])
        index.value_version(value)
        return bytes.fromhex(v["value_hex"]) if isinstance(value, str) else value
    k = keyring_of(v["keyring"])
    inputs: List[str] = v["inputs"]
    if "inputs_repeat" in v:
        inputs = [x * n for x, n in zip(inputs, v["inputs_repeat"])]
    out = k.blind_index(index, *inputs, version=v["version"])
    assert k.blind_index(index, *inputs, version=v["version"], text=True) == v["value_text"]
    return out


def test_every_golden_blind_index_vector_in_python() -> None:
    files = sorted(GOLDEN.glob("blind_index/*.json"))
    ok = fail = 0
    for path in files:
        v = json.loads(path.read_text())
        out = b""
        try:
            out = run_index_vector(v)
            result = "ok"
        except strongroom.Error as e:
            result = e.kind
        assert result == v["result"], path.name
        if result == "ok":
            assert out.hex() == v["value_hex"], path.name
            ok += 1
        else:
            fail += 1
    assert len(files) >= 64
    print(f"python blind-index vectors: {len(files)} ({ok} ok, {fail} fail_ with their exact kind)")


def test_definition_surface() -> None:
    idx = strongroom.BlindIndex("email_idx", key="pii", bits=20, transforms=["trim", "casefold"])
    assert (idx.name, idx.key, idx.bits, idx.slow) == ("email_idx", "pii", 20, None)
    assert idx.fields == [("value", ["trim", "casefold"])]
    assert idx.value_len == 8
    same = strongroom.BlindIndex("email_idx", key="pii", bits=20, transforms=["trim", "casefold"])
    assert idx == same and hash(idx) == hash(same)
    assert idx != strongroom.BlindIndex("email_idx", key="pii", bits=21, transforms=["trim", "casefold"])
    assert "email_idx" in repr(idx)
    slow = strongroom.BlindIndex("ssn", key="pii", transforms=["digits"], slow=True)
    assert slow.slow == (19 * 1024, 2, 1)
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.BlindIndex("x", key="pii", bits=0)
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.BlindIndex("x", key="pii", transforms=["lowercase"])
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.BlindIndex("x", key="pii", transforms=["trim"], fields=[("a", [])])
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.BlindIndex("x", key="pii", slow=(7, 1, 1))
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.BlindIndex("x", key="pii", slow="yes")  # type: ignore[arg-type]


def test_values_lookup_rotation_and_rewrap() -> None:
    k = strongroom.Keyring()
    k.create_key("pii")
    idx = strongroom.BlindIndex("email_idx", key="pii", transforms=["trim", "nfc", "casefold"])
    ctx = {"column": "email"}
    record = k.encrypt("pii", b"Ada@Example.com", ctx, text=True)
    stored = k.blind_index(idx, "Ada@Example.com", text=True)
    assert stored.startswith("sbi1:")
    assert k.blind_index(idx, " ada@EXAMPLE.com\t", text=True) == stored
    assert idx.value_version(stored) == 1
    assert k.index_value_is_current(idx, stored)
    k.rotate("pii")
    assert not k.index_value_is_current(idx, stored)
    found = k.blind_index_lookup(idx, "ADA@example.com", text=True)
    assert len(found) == 2 and stored in found and found[0] != stored
    binary = k.blind_index_lookup(idx, "ADA@example.com")
    assert [idx.value_version(b) for b in binary] == [2, 1]
    new_record, new_value = k.rewrap_indexed(idx, record, ctx, text=True)
    assert isinstance(new_record, str) and new_record != record
    assert new_value == found[0] and k.index_value_is_current(idx, new_value)
    same_record, again = k.rewrap_indexed(idx, new_record, ctx)
    assert same_record == new_record and isinstance(again, bytes)
    k.destroy("pii", 1)
    assert len(k.blind_index_lookup(idx, "x")) == 1
    with pytest.raises(strongroom.KeyDestroyed):
        k.blind_index(idx, "ada@example.com", version=1)
    compound = strongroom.BlindIndex("name_year", key="pii", fields=[("n", ["casefold"]), ("y", ["digits", "first:4"])])
    a = k.blind_index(compound, "Lovelace", "1815-12-10")
    assert a == k.blind_index(compound, "LOVELACE", "1815")
    with pytest.raises(strongroom.InvalidArgument):
        k.blind_index(compound, "Lovelace")
    with pytest.raises(strongroom.InvalidArgument):
        k.rewrap_indexed(compound, new_record, ctx)
    with pytest.raises(strongroom.MalformedInput):
        idx.value_version("sbi1:!!")
    with pytest.raises(strongroom.UnsupportedFormat):
        idx.value_version(b"\x01" + bytes(8))
    with pytest.raises(strongroom.InvalidArgument):
        idx.value_version(12)  # type: ignore[arg-type]


def test_sizing_helpers() -> None:
    assert strongroom.recommended_index_bits(100_000) == 17
    assert strongroom.recommended_index_bits(1000, false_positives=10.0) == 7
    assert strongroom.expected_false_positives(100_000, 17) == pytest.approx(100_000 / 2**17)
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.recommended_index_bits(10, 0.0)
