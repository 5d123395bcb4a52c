"""strongroom: envelope encryption under a versioned keyring.

Records for database fields (``Keyring.encrypt`` / ``decrypt``), envelopes
for blobs (``encrypt_envelope`` / ``decrypt_envelope``), keys that rotate
without downtime, keyring files sealed by a key file or a passphrase.
Every operation runs in the Rust core; returned ``bytes`` cannot be wiped
by anyone (Python gives no way to)."""

from ._strongroom import (
    Keyring,
    __version__,
    decrypt_envelope_with_key,
    decrypt_with_key,
    encrypt_with_key,
    from_text,
    to_text,
)
from .exceptions import (
    AuthenticationError,
    BufferTooSmall,
    Error,
    InsecurePermissions,
    InvalidArgument,
    KeyDestroyed,
    KeyDisabled,
    KeyExists,
    KeyNotFound,
    KeyProviderError,
    KeyringExists,
    KeyringIOError,
    KeyringLocked,
    KeyringNotFound,
    KeyringRollback,
    MalformedInput,
    MemoryNotLocked,
    PrimaryVersionError,
    RandomnessUnavailable,
    TooLarge,
    UnsupportedFormat,
)

__all__ = [
    "AuthenticationError",
    "BufferTooSmall",
    "Error",
    "InsecurePermissions",
    "InvalidArgument",
    "KeyDestroyed",
    "KeyDisabled",
    "KeyExists",
    "KeyNotFound",
    "KeyProviderError",
    "Keyring",
    "KeyringExists",
    "KeyringIOError",
    "KeyringLocked",
    "KeyringNotFound",
    "KeyringRollback",
    "MalformedInput",
    "MemoryNotLocked",
    "PrimaryVersionError",
    "RandomnessUnavailable",
    "TooLarge",
    "UnsupportedFormat",
    "__version__",
    "decrypt_envelope_with_key",
    "decrypt_with_key",
    "encrypt_with_key",
    "from_text",
    "to_text",
]
