"""An encrypted SQLAlchemy column type, as in the README: values are
strongroom records bound to their table and column."""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import LargeBinary, TypeDecorator

import strongroom


class EncryptedString(TypeDecorator[str]):
    """A `str` column stored as a strongroom record (BLOB)."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, keyring: strongroom.Keyring, key: str, table: str, column: str) -> None:
        super().__init__()
        self.keyring, self.key = keyring, key
        self.context = {"table": table, "column": column}

    def process_bind_param(self, value: Optional[str], dialect: Any) -> Optional[bytes]:
        if value is None:
            return None
        return self.keyring.encrypt(self.key, value.encode(), self.context)

    def process_result_value(self, value: Optional[bytes], dialect: Any) -> Optional[str]:
        if value is None:
            return None
        return self.keyring.decrypt(value, self.context).decode()
