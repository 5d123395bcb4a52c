"""PII columns of a SQLite table, encrypted per row with strongroom.

- Each PII value is a record bound to its table, column and row id: a
  value copied to another row or column does not decrypt.
- Each customer's free-text notes are under a per-customer data key whose
  wrapped form sits in its own table: deleting that row crypto-shreds the
  customer's notes, wherever copies of them (backups) live.
- After a key rotation, a batch rewrap moves only the rows not yet at the
  primary version (the record header says which version each is under).

Run: python sqlite_pii.py [KEYRING_DIR]. Prints one line per step."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional, Tuple

import strongroom


def ctx(column: str, row: int) -> Dict[str, str]:
    return {"table": "customers", "column": column, "row": str(row)}


def open_keyring(d: Path) -> strongroom.Keyring:
    key, path = d / "root.key", d / "keyring.srk"
    if not key.exists():
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(32))
        os.close(fd)
        k = strongroom.Keyring.create_key_file(path, key)
        k.create_key("pii")
        return k
    return strongroom.Keyring.open_key_file(path, key)


def setup(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email BLOB NOT NULL, ssn BLOB, notes BLOB);
        CREATE TABLE customer_keys (customer INTEGER PRIMARY KEY, wrapped BLOB NOT NULL);
        """
    )


def add_customer(db: sqlite3.Connection, k: strongroom.Keyring, cid: int, email: str, ssn: str, notes: str) -> None:
    key, wrapped = k.generate_data_key("pii", {"customer": str(cid)})
    db.execute("INSERT INTO customer_keys VALUES (?, ?)", (cid, wrapped))
    db.execute(
        "INSERT INTO customers VALUES (?, ?, ?, ?)",
        (
            cid,
            k.encrypt("pii", email.encode(), ctx("email", cid)),
            k.encrypt("pii", ssn.encode(), ctx("ssn", cid)),
            strongroom.encrypt_with_key(key, notes.encode(), ctx("notes", cid)),
        ),
    )


def read_customer(db: sqlite3.Connection, k: strongroom.Keyring, cid: int) -> Tuple[str, str, Optional[str]]:
    email, ssn, notes = db.execute("SELECT email, ssn, notes FROM customers WHERE id = ?", (cid,)).fetchone()
    row = db.execute("SELECT wrapped FROM customer_keys WHERE customer = ?", (cid,)).fetchone()
    text = None
    if row is not None:
        key = k.unwrap_data_key(row[0], {"customer": str(cid)})
        text = strongroom.decrypt_with_key(key, notes, ctx("notes", cid)).decode()
    return (
        k.decrypt(email, ctx("email", cid)).decode(),
        k.decrypt(ssn, ctx("ssn", cid)).decode(),
        text,
    )


def rewrap_batch(db: sqlite3.Connection, k: strongroom.Keyring, limit: int = 1000) -> int:
    """Moves up to `limit` values (PII records and wrapped data keys) to
    the primary version; returns how many it rewrote (0 when everything is
    current). The headers say which version each is under, so current
    values are skipped without being decrypted."""
    primary = k.primary_version("pii")
    moved = 0
    for cid, email, ssn in db.execute("SELECT id, email, ssn FROM customers").fetchall():
        for column, value in (("email", email), ("ssn", ssn)):
            if moved < limit and strongroom.inspect_record(value).key_version != primary:
                db.execute(
                    f"UPDATE customers SET {column} = ? WHERE id = ?",  # column from a fixed list
                    (k.rewrap(value, ctx(column, cid)), cid),
                )
                moved += 1
    for cid, wrapped in db.execute("SELECT customer, wrapped FROM customer_keys").fetchall():
        if moved < limit and strongroom.inspect_data_key(wrapped)[1] != primary:
            new = k.rewrap_data_key(wrapped, {"customer": str(cid)})
            db.execute("UPDATE customer_keys SET wrapped = ? WHERE customer = ?", (new, cid))
            moved += 1
    db.commit()
    return moved


def main(d: Path) -> Dict[str, int]:
    k = open_keyring(d)
    db = sqlite3.connect(str(d / "app.db"))
    setup(db)
    for cid in range(1, 101):
        add_customer(db, k, cid, f"user{cid}@example.com", f"078-05-{cid:04d}", f"notes on customer {cid}")
    db.commit()
    assert read_customer(db, k, 42) == ("user42@example.com", "078-05-0042", "notes on customer 42")
    print("sqlite: 100 customers written, customer 42 reads back")

    # A value moved to another row does not decrypt.
    email_7 = db.execute("SELECT email FROM customers WHERE id = 7").fetchone()[0]
    try:
        k.decrypt(email_7, ctx("email", 8))
        raise AssertionError("a record decrypted under another row's context")
    except strongroom.AuthenticationError:
        print("sqlite: customer 7's email pasted into row 8 fails to decrypt")

    # Crypto-shredding customer 13: only their key row goes.
    db.execute("DELETE FROM customer_keys WHERE customer = 13")
    db.commit()
    assert read_customer(db, k, 13)[2] is None
    assert read_customer(db, k, 14)[2] == "notes on customer 14"
    print("sqlite: customer 13 shredded (data key deleted); customer 14 unaffected")

    # Rotation, then batch rewraps of only what is not at the primary.
    k.rotate("pii")
    add_customer(db, k, 101, "new@example.com", "078-05-0101", "new customer")
    db.commit()
    first = rewrap_batch(db, k, limit=150)
    second = rewrap_batch(db, k, limit=150)
    third = rewrap_batch(db, k, limit=150)
    print(f"sqlite: rotated to v2; rewrap batches of 150 moved {first}, {second}, {third} values")
    # 100 rows x 2 PII values + 99 data keys (13's is gone) were under v1.
    assert (first, second, third) == (150, 149, 0)
    k.set_min_decryption_version("pii", 2)
    assert read_customer(db, k, 1) == ("user1@example.com", "078-05-0001", "notes on customer 1")
    print("sqlite: every row at v2; v1 no longer decrypts and nothing needs it")
    db.close()
    return {"customers": 101, "moved": first + second + third, "shredded": 1}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as t:
            main(Path(t))
