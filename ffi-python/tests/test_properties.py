"""Hypothesis properties: everything round-trips, and arbitrary or altered
input only ever raises a ``strongroom.Error`` (never another exception,
never a crash)."""

from __future__ import annotations

import io
from typing import Callable, Dict, List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strongroom

KEYRING = strongroom.Keyring()
KEYRING.create_key("pii")
KEY = bytes(range(32))  # TEST KEY

contexts = st.dictionaries(
    st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=6
)
common = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(st.binary(max_size=3000), contexts)
def test_records_round_trip(data: bytes, ctx: Dict[str, str]) -> None:
    record = KEYRING.encrypt("pii", data, ctx)
    assert KEYRING.decrypt(record, ctx) == data
    assert KEYRING.decrypt(strongroom.from_text(strongroom.to_text(record)), ctx) == data
    assert strongroom.decrypt_with_key(KEY, strongroom.encrypt_with_key(KEY, data, ctx), ctx) == data
    buf = bytearray(len(data))
    assert KEYRING.decrypt_into(record, buf, ctx) == len(data) and buf == data


@common
@given(st.binary(max_size=5000), contexts, st.sampled_from([64, 100, 4096]))
def test_envelopes_round_trip(data: bytes, ctx: Dict[str, str], chunk: int) -> None:
    env = KEYRING.encrypt_envelope("pii", data, ctx, chunk_size=chunk)
    assert KEYRING.decrypt_envelope(env, ctx) == data
    assert strongroom.inspect_envelope(env).plaintext_len == len(data)
    with KEYRING.open_envelope(io.BytesIO(env), ctx) as r:
        assert r.read() == data


def only_strongroom_errors(data: bytes) -> None:
    calls: List[Callable[[], object]] = [
        lambda: KEYRING.decrypt(data),
        lambda: KEYRING.decrypt_envelope(data),
        lambda: KEYRING.decrypt_into(data, bytearray(len(data) + 1)),
        lambda: KEYRING.rewrap(data),
        lambda: KEYRING.rewrap_envelope(data),
        lambda: KEYRING.unwrap_data_key(data),
        lambda: strongroom.decrypt_with_key(KEY, data),
        lambda: strongroom.decrypt_envelope_with_key(KEY, data),
        lambda: strongroom.inspect_record(data),
        lambda: strongroom.inspect_envelope(data),
        lambda: KEYRING.open_envelope(io.BytesIO(data)).read(),
        lambda: strongroom.from_text(data.decode("latin-1")),
    ]
    for call in calls:
        try:
            call()
        except strongroom.Error:
            pass


@common
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_strongroom_errors(data: bytes) -> None:
    only_strongroom_errors(data)


@common
@given(st.binary(min_size=1, max_size=200), st.data())
def test_altered_ciphertexts_never_decrypt(data: bytes, draw: st.DataObject) -> None:
    for sealed in (KEYRING.encrypt("pii", data), KEYRING.encrypt_envelope("pii", data, chunk_size=64)):
        i = draw.draw(st.integers(0, len(sealed) - 1))
        bit = draw.draw(st.integers(0, 7))
        bad = bytearray(sealed)
        bad[i] ^= 1 << bit
        only_strongroom_errors(bytes(bad))
        for open_ in (KEYRING.decrypt, KEYRING.decrypt_envelope):
            try:
                out = open_(bytes(bad))
            except strongroom.Error:
                continue
            raise AssertionError(f"an altered ciphertext decrypted to {out!r}")
