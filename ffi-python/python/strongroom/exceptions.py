"""strongroom's exceptions. Each carries ``kind`` (the stable name of
``docs/ERRORS.md``, for example ``"authentication_failed"``) and ``code``
(its stable number). The Rust layer chooses the class by the core's error
number, at one mapping point; at import, this module checks that every
class that mapping names exists here."""

from __future__ import annotations


class Error(Exception):
    """Every error strongroom raises."""

    def __init__(self, message: str, kind: str = "unknown", code: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class AuthenticationError(Error):
    """Altered or truncated data, a wrong key or a wrong context (one class
    for all of them, by design)."""


class KeyNotFound(Error):
    """No key with that name, or the id or version a header names."""


class KeyDisabled(Error):
    """The version is disabled, or below the key's minimum decryption version."""


class KeyDestroyed(Error):
    """The version was destroyed: data under it is gone."""


class PrimaryVersionError(Error):
    """The primary version cannot be disabled or destroyed (rotate first)."""


class KeyExists(Error):
    """A key with that name or id exists already."""


class MalformedInput(Error):
    """Not a well-formed strongroom object."""


class UnsupportedFormat(MalformedInput):
    """An unknown format version."""


class TooLarge(Error):
    """A length or count past a documented bound."""


class InvalidArgument(Error, ValueError):
    """An argument was rejected (a bad key name, a context key, ...)."""


class BufferTooSmall(Error):
    """The output buffer is too small."""


class RandomnessUnavailable(Error):
    """The operating system's random number generator failed."""


class KeyProviderError(Error):
    """An external root (PKCS#11, a key provider) failed."""


class MemoryNotLocked(Error):
    """Key memory could not be locked, and that was required."""


class KeyringIOError(Error, OSError):
    """A file operation on a keyring failed."""


class KeyringNotFound(Error):
    """The keyring file does not exist."""


class KeyringExists(Error):
    """The keyring file exists already."""


class InsecurePermissions(Error):
    """A secret file is readable by others, a symbolic link, or another user's."""


class KeyringLocked(Error):
    """Another process holds the keyring's lock."""


class KeyringRollback(Error):
    """The keyring file is older than one already recorded for it (a restored copy)."""


def _check() -> None:
    from . import _strongroom

    for code, name, cls in _strongroom._error_kinds():
        if not isinstance(globals().get(cls), type) or not issubclass(globals()[cls], Error):
            raise ImportError(f"strongroom.exceptions lacks {cls} for error {code} ({name})")


_check()
