"""The examples a Python developer recognises, run as tests: PII columns
of a SQLite table (per-row contexts, crypto-shredding, rotation and batch
rewrap) and the SQLAlchemy column type of the README."""

import sys
from pathlib import Path
from typing import Any

import pytest

import strongroom

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import sqlite_pii  # noqa: E402


def test_sqlite_pii_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = sqlite_pii.main(tmp_path)
    assert result == {"customers": 101, "moved": 299, "shredded": 1}
    out = capsys.readouterr().out
    assert "rewrap batches of 150 moved 150, 149, 0 values" in out
    # The database holds no plaintext.
    raw = (tmp_path / "app.db").read_bytes()
    assert b"example.com" not in raw and b"078-05" not in raw and b"notes on" not in raw


def test_sqlalchemy_encrypted_string(tmp_path: Path) -> None:
    # Installed by scripts/python-tests.sh: a failure here is a failure.
    import sqlalchemy
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
    from sqlalchemy_column import EncryptedString

    keyring = strongroom.Keyring()
    keyring.create_key("pii")

    class Base(DeclarativeBase):
        pass

    class Customer(Base):
        __tablename__ = "customers"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(EncryptedString(keyring, "pii", "customers", "email"))

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'orm.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Customer(id=1, email="ada@example.com"), Customer(id=2, email="alan@example.com")])
        s.commit()
    with Session(engine) as s:
        got: Any = s.get(Customer, 2)
        assert got.email == "alan@example.com"
    with engine.connect() as c:
        raw = c.execute(sqlalchemy.text("SELECT email FROM customers WHERE id = 1")).scalar_one()
    assert b"ada" not in raw
    assert strongroom.inspect_record(raw).key_version == 1
    assert keyring.decrypt(raw, {"table": "customers", "column": "email"}) == b"ada@example.com"


def test_blind_index_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import blind_index_sqlite

    result = blind_index_sqlite.main(tmp_path)
    assert result["rows"] == 11_000
    # Every row was under version 1 or moved to 2 by the rewrap: the 10,000
    # first rows, in batches of 2,500.
    assert result["moved"] == 10_000 and result["batches"] == [2500, 2500, 2500, 2500]
    assert result["versions"] == {2: 11_000}
    assert result["lookups"] == 1
    out = capsys.readouterr().out
    for step in ("10000 rows under version 1", "rotated to version 2", "1000 rows more", "rewrapped", "destroyed"):
        assert step in out
    raw = (tmp_path / "app.db").read_bytes()
    assert b"example.com" not in raw
