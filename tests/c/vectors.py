#!/usr/bin/env python3
"""Turns the golden vectors (tests/golden/{record,envelope,datakey,blind_index}/*.json,
FORMAT.md 11 and 13.8) into a line format that tests/c/vectors.c reads, so that the
C API runs every vector without a JSON parser in C. One vector:

    V <kind> <name> <result>      kind: record, record_text, envelope, datakey,
                                  blind_index, blind_index_parse
    K <name_hex> <key_id_hex> <primary> <min> <state>:<key_hex or ->,...
    C <key_hex>:<value_hex> ...   the context supplied (may be empty)
    O <opener> [args]             envelope: keyring | data_key <wrapped_hex> <ctx> |
                                  derived_key <name_hex> <version> <ctx>;
                                  record: keyring | standalone <key_hex>
                                  blind index: index <name_hex> <key_name_hex> <bits>
                                  <m,t,p or -> <version or 0> <text: 0|1>
                                  <field_hex>:<transforms_hex or -> ...
    X <input_hex or ->,...        blind index: the field values
    I <input_hex>                 the record, text record (its bytes), envelope,
                                  or blind-index value to parse (text: its bytes)
    P <expected_hex or ->         plaintext or data key when result is ok
    E
Strings are hex so that no byte needs quoting. Usage: vectors.py OUT."""
import json
import sys
from pathlib import Path

STATES = {"enabled": 1, "disabled": 2, "destroyed": 3}


def hx(s: str) -> str:
    return s.encode("utf-8").hex()


def ctx_line(ctx: dict) -> str:
    return "C " + " ".join(f"{hx(k)}:{hx(v)}" for k, v in sorted(ctx.items()))


def ctx_token(ctx: dict) -> str:
    # One token for a context inside an O line: pairs joined by commas.
    return ",".join(f"{hx(k)}:{hx(v)}" for k, v in sorted(ctx.items())) or "-"


def keys(keyring: list) -> list:
    out = []
    for k in keyring:
        versions = ",".join(f"{STATES[v['state']]}:{v['key_hex'] or '-'}" for v in k["versions"])
        out.append(f"K {hx(k['name'])} {k['key_id']} {k['primary_version']} {k['min_decryption_version']} {versions}")
    return out


def index_vector(v: dict, lines: list) -> tuple:
    """A blind-index vector's kind, input, opener and expected value; its X
    line is appended to `lines` after the V line by the caller's order."""
    i = v["index"]
    slow = "-" if i["slow"] is None else f"{i['slow']['m_cost_kib']},{i['slow']['t_cost']},{i['slow']['p_cost']}"
    fields = " ".join(f"{hx(f['name'])}:{hx(','.join(f['transforms'])) or '-'}" for f in i["fields"])
    text = 1 if "value_text" in v and v["operation"] == "parse" else 0
    opener = f"index {hx(i['name'])} {hx(i['key_name'])} {i['bits']} {slow} {v.get('version') or 0} {text} {fields}"
    if v["operation"] == "compute":
        inputs = v["inputs"]
        if "inputs_repeat" in v:
            inputs = [x * n for x, n in zip(inputs, v["inputs_repeat"])]
        INDEX_INPUTS[v["name"]] = "X " + ",".join(hx(x) or "-" for x in inputs)
        return "blind_index", "", opener, v.get("value_hex")
    data = v["value_text"].encode().hex() if text else v["value_hex"]
    return "blind_index_parse", data, opener, v.get("value_hex")


INDEX_INPUTS: dict = {}


def main() -> int:
    root = Path(__file__).resolve().parents[1] / "golden"
    lines, count = [], 0
    for kind_dir in ("record", "envelope", "datakey", "blind_index"):
        for path in sorted((root / kind_dir).glob("*.json")):
            v = json.loads(path.read_text(encoding="utf-8"))
            if kind_dir == "record":
                if "record_text" in v:
                    kind, data = "record_text", v["record_text"].encode("utf-8").hex()
                else:
                    raw = bytes.fromhex(v["record_hex"])
                    if "record_pad_to" in v:
                        raw += bytes(v["record_pad_to"] - len(raw))
                    kind, data = "record", raw.hex()
                opener = f"standalone {v['standalone_key_hex']}" if "standalone_key_hex" in v else "keyring"
                expected = v.get("plaintext_hex")
            elif kind_dir == "envelope":
                kind, data = "envelope", v["envelope_hex"]
                if v["opener"] == "data_key":
                    d = v["data_key"]
                    opener = f"data_key {d['wrapped_hex']} {ctx_token(d['context'])}"
                elif v["opener"] == "derived_key":
                    d = v["derived_key"]
                    opener = f"derived_key {hx(d['key_name'])} {d['version']} {ctx_token(d['context'])}"
                else:
                    opener = "keyring"
                expected = v.get("plaintext_hex")
            elif kind_dir == "datakey":
                kind, data, opener = "datakey", v["wrapped_hex"], "keyring"
                expected = v.get("data_key_hex")
            else:
                kind, data, opener, expected = index_vector(v, lines)
            lines.append(f"V {kind} {v['name']} {v['result']}")
            lines.extend(keys(v["keyring"]))
            lines.append(ctx_line(v.get("context", {})))
            lines.append(f"O {opener}")
            if v["name"] in INDEX_INPUTS:
                lines.append(INDEX_INPUTS[v["name"]])
            lines.append(f"I {data or '-'}")
            lines.append(f"P {expected if expected is not None else '-'}")
            lines.append("E")
            count += 1
    Path(sys.argv[1]).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"vectors.py: {count} vectors written")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
