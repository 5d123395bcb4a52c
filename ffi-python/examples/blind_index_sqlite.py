"""Find an encrypted email in SQLite with a blind index, across a key rotation.

The `email` column holds records (random nonces: equal emails look
unrelated); `email_idx` holds a blind index of the normalised email (trim,
NFC, case folding), 32 bits wide, which is what `WHERE email_idx IN (...)`
searches. The index carries its key version, so:

1. 10,000 rows go in, and one is found by email.
2. The key rotates. New rows are indexed under the new version; a lookup
   queries one value per version that can still decrypt, so old rows and
   new rows are both found, with the query written in any case.
3. Every row is rewrapped with its index recomputed (`rewrap_indexed`), in
   batches, and the old version is destroyed. Lookups still find every row,
   and the old version's index values can no longer be computed.

A match is confirmed by decrypting the row: at 32 bits, 10,000 rows give a
coincidental match about once per 430,000 lookups, and the check makes
even that harmless.

Run: python blind_index_sqlite.py [DIR]. Prints one line per step."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import strongroom

ROWS = 10_000
EMAIL_IDX = strongroom.BlindIndex("customers.email_idx", key="pii", bits=32, transforms=["trim", "nfc", "casefold"])


def ctx(row: int) -> Dict[str, str]:
    return {"table": "customers", "column": "email", "row": str(row)}


def email_for(i: int) -> str:
    return f"user{i}@example.com"


def insert(db: sqlite3.Connection, k: strongroom.Keyring, start: int, count: int) -> None:
    rows = []
    for i in range(start, start + count):
        email = email_for(i)
        rows.append((i, k.encrypt("pii", email.encode(), ctx(i)), k.blind_index(EMAIL_IDX, email)))
    db.executemany("INSERT INTO customers (id, email, email_idx) VALUES (?, ?, ?)", rows)
    db.commit()


def find(db: sqlite3.Connection, k: strongroom.Keyring, email: str) -> List[int]:
    """Rows whose decrypted email matches `email` after normalisation."""
    values = k.blind_index_lookup(EMAIL_IDX, email)
    marks = ",".join("?" * len(values))
    hits = db.execute(f"SELECT id, email FROM customers WHERE email_idx IN ({marks})", values).fetchall()
    wanted = k.blind_index(EMAIL_IDX, email)
    # Confirm by decrypting: a 32-bit index can match by coincidence.
    return sorted(
        row for row, record in hits if k.blind_index(EMAIL_IDX, k.decrypt(record, ctx(row)).decode()) == wanted
    )


def versions(db: sqlite3.Connection) -> Dict[int, int]:
    counts: Dict[int, int] = {}
    for (value,) in db.execute("SELECT email_idx FROM customers"):
        v = EMAIL_IDX.value_version(value)
        counts[v] = counts.get(v, 0) + 1
    return counts


def rewrap_all(db: sqlite3.Connection, k: strongroom.Keyring, batch: int = 2500) -> List[int]:
    """Moves rows not yet at the primary version, a batch at a time."""
    moved: List[int] = []
    while True:
        stale = [
            (row, record)
            for row, record, value in db.execute("SELECT id, email, email_idx FROM customers ORDER BY id")
            if not k.index_value_is_current(EMAIL_IDX, value)
        ][:batch]
        if not stale:
            return moved
        updates = []
        for row, record in stale:
            new_record, new_value = k.rewrap_indexed(EMAIL_IDX, record, ctx(row))
            updates.append((new_record, new_value, row))
        db.executemany("UPDATE customers SET email = ?, email_idx = ? WHERE id = ?", updates)
        db.commit()
        moved.append(len(updates))


def check(label: str, db: sqlite3.Connection, k: strongroom.Keyring, queries: Sequence[Union[str, int]]) -> None:
    for q in queries:
        email = q if isinstance(q, str) else email_for(q)
        want = [int(email.strip().lower()[4:].split("@")[0])]
        got = find(db, k, email)
        assert got == want, f"{label}: {email!r} found {got}, want {want}"
    print(f"{label}: {len(queries)} lookups found their row; index versions {versions(db)}")


def main(directory: Optional[Path] = None) -> Dict[str, object]:
    d = Path(directory or tempfile.mkdtemp(prefix="strongroom-bi-"))
    key_file, keyring_file = d / "root.key", d / "keyring.srk"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    k = strongroom.Keyring.create_key_file(keyring_file, key_file)
    k.create_key("pii")
    db = sqlite3.connect(d / "app.db")
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email BLOB NOT NULL, email_idx BLOB NOT NULL)")
    db.execute("CREATE INDEX customers_email_idx ON customers (email_idx)")

    insert(db, k, 0, ROWS)
    check("10000 rows under version 1", db, k, [4242, "  USER17@Example.com ", 9999])

    k.rotate("pii")
    check("rotated to version 2, before any new row", db, k, [4242, 0])
    insert(db, k, ROWS, 1000)
    check("1000 rows more under version 2", db, k, [4242, "User10500@EXAMPLE.COM", 10999])

    moved = rewrap_all(db, k)
    check("every row rewrapped with its index", db, k, [4242, 10500])
    k.destroy("pii", 1)
    try:
        k.blind_index(EMAIL_IDX, email_for(4242), version=1)
        raise AssertionError("a destroyed version computed an index value")
    except strongroom.KeyDestroyed:
        pass
    check("version 1 destroyed", db, k, [4242, " user17@example.com", 10999])
    lookups = len(k.blind_index_lookup(EMAIL_IDX, "x"))
    print(f"rewrap batches moved {moved} rows; a lookup now queries {lookups} value(s)")
    db.close()
    return {"rows": ROWS + 1000, "moved": sum(moved), "batches": moved, "versions": versions_of(d), "lookups": lookups}


def versions_of(d: Path) -> Dict[int, int]:
    db = sqlite3.connect(d / "app.db")
    try:
        return versions(db)
    finally:
        db.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
