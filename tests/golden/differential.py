#!/usr/bin/env python3
"""The differential run (issue #17): every input of the fuzz corpora that
is a record, a text record, an envelope, a wrapped data key, a keyring
file, a context encoding, an armored envelope, a generation file or a
transit root's parameters goes through strongroom
(fuzz/examples/verdicts.rs) and through the independent decoder written
from FORMAT.md alone (independent_decoder.py), with the fuzz keyring and
the empty context; the two must reach the same result (`ok` or the same
FORMAT.md section 11 error name) and, on `ok`, the same output.

    python3 tests/golden/differential.py [CORPUS_ROOT...]

Each CORPUS_ROOT holds one directory per fuzz target (default: fuzz/seeds
and fuzz/corpora; the campaign adds its working corpus). Exits non-zero
on any disagreement, or if nothing was compared.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import independent_decoder as d

ROOT = Path(__file__).resolve().parents[2]

# The fuzz keyring (fuzz/src/lib.rs, TEST KEY MATERIAL) as the decoder reads one.
KEYRING = [{
    "name": "fuzz", "key_id": "01020304", "primary_version": 4, "min_decryption_version": 2,
    "versions": [
        {"version": 1, "state": "destroyed"},
        {"version": 2, "state": "disabled", "key_hex": "02" * 32},
        {"version": 3, "state": "enabled", "key_hex": "03" * 32},
        {"version": 4, "state": "enabled", "key_hex": "04" * 32},
    ],
}]
FILE_ROOT = {"kind": "key_file", "key_hex": "4b" * 32}

# Which targets' inputs are which format (verdicts.rs KIND).
KINDS = {
    "record": ["record_decrypt"],
    "record_text": ["record_text"],
    "envelope": ["envelope_decrypt", "envelope_header"],
    "datakey": ["datakey_unwrap"],
    "keyring": ["keyring_open"],
    "context": ["context_decode"],
    "armor": ["armor"],
    "generation": ["generation_file"],
    "transit_params": ["transit_params"],
}


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def decoder_verdict(kind: str, data: bytes) -> tuple[str, str]:
    try:
        if kind == "record":
            return "ok", sha(d.decrypt_record(data, KEYRING, {}))
        if kind == "record_text":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return "skip", ""
            return "ok", sha(d.decrypt_text(text, KEYRING, {}))
        if kind == "envelope":
            return "ok", sha(d.decrypt_envelope(data, {}, keyring=KEYRING))
        if kind == "datakey":
            return "ok", sha(d.unwrap_data_key(data, KEYRING, {}))
        if kind == "keyring":
            if data[:1] != b"\x00":
                return "skip", ""
            keys, lineage = d.open_keyring_file(data[1:], FILE_ROOT)
            generation = lineage["generation"] if lineage else 0
            return "ok", f"keys={len(keys)} generation={generation}"
        if kind == "context":
            return "ok", sha(d.context_encoding(d.parse_context(data)))
        if kind == "armor":
            # latin-1 maps each byte to one character, so bytes outside
            # ASCII reach the decoder as the characters it must refuse.
            return "ok", sha(d.dearmor(data.decode("latin-1")))
        if kind == "generation":
            lineage = d.parse_generation_file(data)
            return "ok", f"keyring_id={lineage['keyring_id_hex']} generation={lineage['generation']}"
        if kind == "transit_params":
            mount, key = d.parse_transit_params(data)
            return "ok", f"mount={mount.decode()} key={key.decode()}"
    except d.Reject as r:
        return r.result, ""
    raise ValueError(kind)


def main() -> int:
    roots = [Path(a) for a in sys.argv[1:]] or [ROOT / "fuzz/seeds", ROOT / "fuzz/corpora"]
    env = dict(os.environ)
    build = ["cargo", "build", "-q", "--manifest-path", str(ROOT / "fuzz/Cargo.toml"),
             "--example", "verdicts"]
    target_dir = Path(env.get("CARGO_TARGET_DIR", ROOT / "fuzz/target"))
    subprocess.run(build, check=True, env=env)
    exe = target_dir / "debug/examples/verdicts"
    compared = disagreements = skipped = 0
    counts: dict[str, int] = {}
    for kind, targets in KINDS.items():
        dirs = [str(r / t) for r in roots for t in targets if (r / t).is_dir()]
        if not dirs:
            continue
        out = subprocess.run([str(exe), kind, *dirs], check=True, capture_output=True,
                             text=True, env=env).stdout
        for line in out.splitlines():
            path, result, digest = line.split("\t")
            try:
                want = decoder_verdict(kind, Path(path).read_bytes())
            except Exception as e:  # the decoder itself failed: a finding
                want = (f"decoder raised {type(e).__name__}: {e}", "")
            if result == "skip" and want[0] == "skip":
                skipped += 1
                continue
            compared += 1
            counts[kind] = counts.get(kind, 0) + 1
            if (result, digest) != want:
                disagreements += 1
                print(f"DISAGREE {kind} {path}: strongroom {result} {digest}, "
                      f"decoder {want[0]} {want[1]}", file=sys.stderr)
    per_kind = ", ".join(f"{k} {n}" for k, n in counts.items())
    print(f"differential: {compared} inputs compared ({per_kind}), {skipped} skipped, "
          f"{disagreements} disagreements")
    return 1 if disagreements or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
