"""The value types strongroom returns: frozen dataclasses (metadata, never
key material), the wipeable ``SecretBytes``, and the audit adapter to the
``logging`` module. The Rust layer builds them through the ``_make_*``
functions here, from plain numbers and strings."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Protocol, Tuple


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


@dataclass(frozen=True)
class VersionInfo:
    """One version of a key: its number, state and creation time."""

    version: int
    state: str
    """``"enabled"``, ``"disabled"`` or ``"destroyed"``."""
    created: datetime


@dataclass(frozen=True)
class KeyInfo:
    """What the keyring says about one key: metadata only, never material."""

    name: str
    key_id: int
    created: datetime
    primary_version: int
    min_decryption_version: int
    rotation_period: Optional[timedelta]
    versions: Tuple[VersionInfo, ...]

    @property
    def rotation_due(self) -> Optional[datetime]:
        """When the primary version is one rotation period old (None when
        no period is set)."""
        if self.rotation_period is None:
            return None
        for v in self.versions:
            if v.version == self.primary_version:
                return v.created + self.rotation_period
        return None


@dataclass(frozen=True)
class RecordInfo:
    """The public header of a record (nothing is decrypted or
    authenticated by reading it)."""

    key_id: int
    """0 for a record under a standalone key."""
    key_version: int
    plaintext_len: int

    @property
    def standalone(self) -> bool:
        """Whether the record is under a standalone key (a data key or a
        derived key) rather than a keyring key version."""
        return self.key_id == 0


@dataclass(frozen=True)
class EnvelopeRecipient:
    """One recipient of an envelope: a keyring key version, or (both None)
    a standalone key."""

    key_id: Optional[int]
    version: Optional[int]


@dataclass(frozen=True)
class EnvelopeInfo:
    """The public facts of an envelope's header: no secret, nothing
    decrypted or authenticated."""

    format: int
    chunk_size: int
    context: Mapping[str, str]
    recipients: Tuple[EnvelopeRecipient, ...]
    header_len: int
    chunk_count: int
    plaintext_len: int


@dataclass(frozen=True)
class AuditEvent:
    """One audit event (``docs/AUDIT.md``): what happened, to which key
    and version, and the outcome. Never a secret, a plaintext or a
    context value."""

    time: datetime
    action: str
    """The action's stable name, for example ``"key_rotated"``."""
    action_code: int
    object: str
    """``"key"``, ``"record"``, ``"envelope"``, ``"data_key"`` or ``"keyring"``."""
    key_name: Optional[str]
    key_id: Optional[int]
    version: Optional[int]
    error: Optional[str]
    """None on success, else the error's stable kind name."""

    @property
    def succeeded(self) -> bool:
        """Whether the action succeeded."""
        return self.error is None


class SecretBytes:
    """Decrypted bytes that can be wiped: ``Keyring.decrypt_secret`` and
    ``Keyring.decrypt_envelope_secret`` return one.

    Use ``view()`` (a ``memoryview``, no copy) or, on Python 3.12+,
    pass the object itself wherever a bytes-like object is accepted.
    ``wipe()`` overwrites the bytes with zeros; so does leaving a ``with``
    block, and the object's collection. Every copy you make
    (``bytes(s.view())``, ``to_bytes()``, a ``str``) is yours: Python gives
    no way to wipe a ``bytes`` or a ``str``."""

    __slots__ = ("_buf", "__weakref__")

    def __init__(self, size: int) -> None:
        self._buf = bytearray(size)

    def view(self) -> memoryview:
        """The bytes, without a copy (valid until ``wipe``)."""
        return memoryview(self._buf)

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._buf)

    def to_bytes(self) -> bytes:
        """A copy as ``bytes``, which nobody can wipe."""
        return bytes(self._buf)

    def wipe(self) -> None:
        """Overwrites the bytes with zeros (the length stays)."""
        n = len(self._buf)
        self._buf[:] = bytes(n)

    def __len__(self) -> int:
        return len(self._buf)

    def __enter__(self) -> "SecretBytes":
        return self

    def __exit__(self, *exc: object) -> None:
        self.wipe()

    def __del__(self) -> None:
        try:
            self.wipe()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretBytes):
            other = other._buf
        if not isinstance(other, (bytes, bytearray, memoryview)):
            return NotImplemented
        return hmac.compare_digest(self._buf, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<SecretBytes: {len(self._buf)} bytes>"


def logging_audit(
    logger: Optional[logging.Logger] = None,
    level: int = logging.INFO,
    failure_level: int = logging.WARNING,
) -> Callable[[AuditEvent], None]:
    """An audit callback for ``Keyring.set_audit`` that logs each event to
    ``logger`` (default: the ``"strongroom.audit"`` logger): successes at
    ``level``, failures at ``failure_level``. The message is one line of
    ``key=value`` pairs; the event itself is in the record's ``extra`` as
    ``strongroom_event``."""

    log = logger if logger is not None else logging.getLogger("strongroom.audit")

    def record(event: AuditEvent) -> None:
        parts = [f"action={event.action}", f"object={event.object}"]
        if event.key_name is not None:
            parts.append(f"key={event.key_name}")
        if event.key_id is not None:
            parts.append(f"key_id={event.key_id}")
        if event.version is not None:
            parts.append(f"version={event.version}")
        parts.append("outcome=ok" if event.error is None else f"outcome={event.error}")
        log.log(
            level if event.error is None else failure_level,
            "strongroom audit: %s",
            " ".join(parts),
            extra={"strongroom_event": event},
        )

    return record


# Constructors the Rust layer calls, from plain values.


def _make_key_info(
    name: str,
    key_id: int,
    created: int,
    primary_version: int,
    min_decryption_version: int,
    rotation_period: Optional[int],
    versions: "list[tuple[int, str, int]]",
) -> KeyInfo:
    return KeyInfo(
        name=name,
        key_id=key_id,
        created=_utc(created),
        primary_version=primary_version,
        min_decryption_version=min_decryption_version,
        rotation_period=None if rotation_period is None else timedelta(seconds=rotation_period),
        versions=tuple(VersionInfo(v, s, _utc(c)) for v, s, c in versions),
    )


def _make_envelope_info(
    format: int,
    chunk_size: int,
    context: "list[tuple[str, str]]",
    recipients: "list[Optional[tuple[int, int]]]",
    header_len: int,
    chunk_count: int,
    plaintext_len: int,
) -> EnvelopeInfo:
    return EnvelopeInfo(
        format=format,
        chunk_size=chunk_size,
        context=MappingProxyType(dict(context)),
        recipients=tuple(
            EnvelopeRecipient(None, None) if r is None else EnvelopeRecipient(r[0], r[1])
            for r in recipients
        ),
        header_len=header_len,
        chunk_count=chunk_count,
        plaintext_len=plaintext_len,
    )


def _make_audit_event(
    time: int,
    action: str,
    action_code: int,
    object: str,
    key_name: Optional[str],
    key_id: Optional[int],
    version: Optional[int],
    error: Optional[str],
) -> AuditEvent:
    return AuditEvent(_utc(time), action, action_code, object, key_name, key_id, version, error)


class KeyProvider(Protocol):
    """An external root of trust for a keyring file (``Keyring.open_provider``,
    ``Keyring.create_provider``): for example a KMS client.

    ``wrap`` gets the keyring file's 32-byte sealing key (a ``bytearray``,
    zeroed right after the call) and ``aad``, the file header, which
    ``unwrap`` must be given back unchanged or fail; it returns the wrapped
    key (1 to 1024 bytes). ``unwrap`` returns the 32-byte key, raising
    ``strongroom.AuthenticationError`` for a wrong key or altered input;
    any other exception fails the open as ``KeyProviderError``. An optional
    attribute ``params`` (bytes, at most 1024, public: a KMS key id, say)
    is stored in the file header. Both methods may be called from any
    thread."""

    def wrap(self, key: bytearray, aad: bytes) -> bytes:
        """Wraps the 32-byte ``key``, bound to ``aad``."""
        ...

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        """Returns the 32-byte key ``wrap`` wrapped with the same ``aad``."""
        ...
