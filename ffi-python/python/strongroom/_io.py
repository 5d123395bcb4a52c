"""``EnvelopeReader``: random access to an envelope as a standard binary
stream. The decryption is done by the Rust layer, chunk by chunk; this
class keeps the position and speaks ``io.RawIOBase``."""

from __future__ import annotations

import io
from typing import Any


class EnvelopeReader(io.RawIOBase):
    """A read-only, seekable binary stream over an envelope's plaintext
    (``Keyring.open_envelope``). ``read``, ``readinto``, ``seek``, ``tell``,
    iteration and ``with`` work as on any file; wrap it in
    ``io.BufferedReader`` for buffered reads. Only the chunks a read covers
    are fetched and authenticated: a read that touches an altered chunk
    raises ``strongroom.AuthenticationError`` and returns nothing of it.
    Closing it wipes the envelope's key (a file object it was opened on is
    not closed)."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self._inner = inner
        self._pos = 0

    @property
    def size(self) -> int:
        """The plaintext length in bytes."""
        return int(self._inner.len)

    def readable(self) -> bool:
        """True: the plaintext can be read."""
        return True

    def seekable(self) -> bool:
        """True: any offset can be read."""
        return True

    def writable(self) -> bool:
        """False: an envelope reader is read-only."""
        return False

    def readinto(self, buffer: Any) -> int:
        """Reads plaintext at the position into ``buffer`` (writable);
        returns the count, 0 at the end."""
        if self.closed:
            raise ValueError("I/O operation on a closed EnvelopeReader")
        n = int(self._inner.readinto_at(self._pos, buffer))
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Moves to ``offset`` (from the start, the position or the end,
        by ``whence``); returns the new position. Nothing is read."""
        if self.closed:
            raise ValueError("I/O operation on a closed EnvelopeReader")
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence!r})")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        """The position in the plaintext."""
        if self.closed:
            raise ValueError("I/O operation on a closed EnvelopeReader")
        return self._pos

    def close(self) -> None:
        """Closes the reader and wipes the envelope's key."""
        if not self.closed:
            self._inner.close()
        super().close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"at {self._pos} of {self.size}"
        return f"<strongroom.EnvelopeReader {state}>"


