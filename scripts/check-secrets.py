#!/usr/bin/env python3
"""No real key material in the repository (issue #11, point 12): scans every
file git tracks and fails on

- files that hold keys or keyrings by their kind: *.key, *.srk, *.pem,
  *.p12, *.pfx, *.jks, id_rsa / id_ed25519, or a file that starts with the
  keyring-file magic "SRKR";
- PEM private-key blocks, and the token formats of AWS, GitHub, GitLab,
  Slack and Google API keys;
- a run of 64 or more hex digits (a 32-byte key) in the shipped source
  (core/src, cli/src, ffi-c/src, ffi-python/src, ffi-python/python,
  include), unless the line says TEST. Test vectors, whose keys are public
  test keys by design, live under tests/ and are not scanned for hex.

Prints what it scanned and every finding; exits 1 on any."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY_FILE = re.compile(r"(\.(key|srk|pem|p12|pfx|jks)$)|(^|/)id_(rsa|ecdsa|ed25519)(\.pub)?$")
TOKENS = [
    ("PEM private key", re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("AWS access key id", re.compile(rb"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("GitLab token", re.compile(rb"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("Google API key", re.compile(rb"\bAIza[0-9A-Za-z_-]{35}\b")),
]
HEX_KEY = re.compile(rb"[0-9a-fA-F]{64,}")
SHIPPED = ("core/src/", "cli/src/", "ffi-c/src/", "ffi-python/src/", "ffi-python/python/", "include/")


def scan(root: Path) -> int:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True
    ).stdout.decode().split("\0")
    files = [f for f in files if f]
    findings = []
    for name in files:
        path = root / name
        if KEY_FILE.search(name):
            findings.append(f"{name}: a key or keyring file is tracked")
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue
        if data.startswith(b"SRKR"):
            findings.append(f"{name}: a strongroom keyring file is tracked")
        for what, pattern in TOKENS:
            for m in pattern.finditer(data):
                line = data.count(b"\n", 0, m.start()) + 1
                findings.append(f"{name}:{line}: {what}")
        if name.startswith(SHIPPED):
            for n, line in enumerate(data.splitlines(), 1):
                if HEX_KEY.search(line) and b"TEST" not in line:
                    findings.append(f"{name}:{n}: 64+ hex digits (a key?) in shipped source")
    for f in findings:
        print(f"check-secrets: {f}", file=sys.stderr)
    print(f"check-secrets: {len(files)} tracked files scanned, {len(findings)} findings")
    return 1 if findings or not files else 0


def self_test() -> int:
    """Plants one of each kind of finding in a scratch repository and
    checks that the scan reports every one."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        repo = Path(d)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / "core/src").mkdir(parents=True)
        planted = {
            "root.key": b"x",
            "prod.srk": b"SRKR\x02...",
            # Split, so this file does not match its own patterns.
            "notes.txt": b"-----BEGIN OPENSSH " + b"PRIVATE KEY-----\n" + b"AKIA" + b"ABCDEFGHIJKLMNOP\n",
            "core/src/lib.rs": b"const K: &str = \"" + b"ab" * 32 + b"\";\n",
        }
        for name, data in planted.items():
            (repo / name).write_bytes(data)
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = scan(repo)
        found = err.getvalue()
        wanted = ["root.key: a key", "prod.srk: a key", "prod.srk: a strongroom keyring",
                  "PEM private key", "AWS access key id", "core/src/lib.rs:1: 64+ hex"]
        missing = [w for w in wanted if w not in found]
        print(f"check-secrets: self-test planted {len(wanted)} findings, "
              f"{len(wanted) - len(missing)} reported")
        return 0 if rc == 1 and not missing else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(scan(ROOT))
