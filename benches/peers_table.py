#!/usr/bin/env python3
"""Makes issue #15's table from what benches/run-peers.sh measured:
peers.jsonl (one JSON object per measurement and round), the files table
of benches/files_vs_age.sh and the C table of benches/c_overhead.sh.
Each row: what, strongroom, peer, ratio, target, met. Medians over rounds."""
import json
import platform
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

raw, files_md, c_md = sys.argv[1:4]
rows = defaultdict(list)
for line in open(raw):
    line = line.strip()
    if line.startswith("{"):
        v = json.loads(line)
        rows[v.get("what") or (v["size"], v["library"])].append(v)


def med(key, field):
    return statistics.median(v[field] for v in rows[key])


table = []


def row(what, ours, peer, ratio, target, met):
    table.append((what, ours, peer, f"{ratio:.2f}x", target, "met" if met else "**not met**"))


for size in (64, 1024):
    k = f"record {size} B encrypt+decrypt"
    r = med(k, "ratio")
    target = 1.5 if size == 64 else 1.3
    row(f"record {size} B encrypt+decrypt (time)", f"{med(k, 'strongroom') * 1e9:.0f} ns",
        f"ring raw ChaCha20-Poly1305, counter nonce: {med(k, 'peer') * 1e9:.0f} ns", r, f"<= {target}x", r <= target)
for mib in (1, 16):
    for d in ("encrypt", "decrypt"):
        k = f"envelope {mib} MiB {d} (one thread)"
        r = med(k, "ratio")
        row(f"envelope {mib} MiB {d}, one thread (throughput)", f"{med(k, 'strongroom') / 1e9:.2f} GB/s",
            f"ring raw: {med(k, 'peer') / 1e9:.2f} GB/s", r, ">= 0.9x", r >= 0.9)
for (m, t, p, target) in ((65536, 3, 4, 1.0), (19456, 2, 1, 1.2)):
    ours = med(f"argon2id m={m} KiB t={t} p={p} (keyring open)", "strongroom_ms")
    peer = med(f"argon2id m={m} KiB t={t} p={p}", "peer_ms")
    row(f"Argon2id m={m // 1024} MiB t={t} p={p} (time)", f"{ours:.1f} ms", f"libargon2 (argon2-cffi): {peer:.1f} ms",
        ours / peer, f"<= {target}x", ours / peer <= target)

# Files: the medians of files_vs_age.sh's table.
f = {}
for line in open(files_md):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 8 and re.match(r"^(cat|strongroom|age)", cells[0]):
        f[cells[0]] = {"median_s": float(cells[2]), "rss_mib": float(cells[7])}
size_line = next((l for l in open(files_md) if l.startswith("sizes:")), "")
mib = int(re.search(r"plaintext (\d+) B", size_line).group(1)) / (1 << 20) if size_line else 0
for op in ("encrypt", "decrypt"):
    ours, cat, age = f[f"strongroom-{op}"], f["cat"], f[f"age-{op}"]
    r = cat["median_s"] / ours["median_s"]
    row(f"file {mib:.0f} MiB {op}, tmpfs, 2 cores (CLI, key-file keyring)",
        f"{mib / ours['median_s']:.0f} MiB/s ({age['median_s'] / ours['median_s']:.2f}x age), peak RSS {ours['rss_mib']:.0f} MiB",
        f"cat: {mib / cat['median_s']:.0f} MiB/s; age: {mib / age['median_s']:.0f} MiB/s", r,
        ">= 0.85x cat, RSS <= 32 MiB", r >= 0.85 and ours["rss_mib"] <= 32)
cli = rows["cli 1 KiB encrypt"]
if cli:
    o, p = statistics.median(v["strongroom_s"] for v in cli), statistics.median(v["peer_s"] for v in cli)
    row("CLI on a 1 KiB file, process start to exit", f"{o * 1e3:.2f} ms", f"age: {p * 1e3:.2f} ms", o / p, "<= 0.8x", o / p <= 0.8)

py = {k: statistics.median(v["ops_per_s"] for v in vs) for k, vs in rows.items() if isinstance(k, tuple)}
if py:
    for size in ("64 B", "1 KiB"):
        ours = py[(size, "strongroom record")]
        for lib, target in (("cryptography ChaCha20Poly1305", 1.5), ("tink XChaCha20-Poly1305", 3), ("cryptography Fernet", 15)):
            r = ours / py[(size, lib)]
            row(f"Python record {size} round trips", f"{ours:,.0f}/s", f"{lib}: {py[(size, lib)]:,.0f}/s", r, f">= {target}x", r >= target)
    env_py = py[("1 MiB", "strongroom envelope")] * (1 << 20)
    e = med("envelope 1 MiB encrypt (one thread)", "strongroom")
    d = med("envelope 1 MiB decrypt (one thread)", "strongroom")
    rust_rt = 1 / (1 / e + 1 / d)
    r = env_py / rust_rt
    row("Python 1 MiB envelope round trip", f"{env_py / 1e9:.2f} GB/s", f"the Rust API: {rust_rt / 1e9:.2f} GB/s", r, ">= 0.9x (within 10%)", r >= 0.9)
for line in open(c_md):
    m = re.match(r"\| 1024 B \| (\d+) \| (\d+) \|", line)
    if m:
        rust, c = int(m.group(1)), int(m.group(2))
        row("C record 1 KiB round trip", f"{c} ns", f"the Rust API: {rust} ns", c / rust, "<= 1.05x", c / rust <= 1.05)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print(f"Machine: {cores} cores, {cpu}, {platform.system()} {platform.release()}; "
      f"measured {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; rerun: bash benches/run-peers.sh\n")
print("| what | strongroom | peer (same run) | ratio | target | |")
print("| --- | --- | --- | ---: | --- | --- |")
for r in table:
    print("| " + " | ".join(r) + " |")
met = sum(1 for r in table if r[5] == "met")
print(f"\n{met} of {len(table)} targets met.")
