"""Pseudonymous user ids: a keyed hash (HMAC-SHA256) of the Discord user id.

Discord user ids are public: anyone in a server can copy them. A plain hash of one could
be matched against them by hashing every member's id, so the hash is keyed, and the key is
never stored in the database: it is the secret ``TUTOR_HASH_KEY`` from configuration, or,
without one, a random key generated on first run into a file beside the database (same
persistent volume, so pseudonyms stay stable across restarts) with mode 0600. A leaked
database alone cannot be linked to anybody; the raw id never reaches it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

KEY_BYTES = 32
PSEUDONYM_CHARS = 32
"""128 bits of the HMAC: collisions are negligible for any class, and rows stay compact."""


def default_key_file(database: Path) -> Path:
    """``<db>.key``: beside the database (same volume), never inside it."""
    return database.with_name(database.name + ".key")


class Pseudonyms:
    """Turns Discord user ids into stable pseudonyms; the key never leaves this object."""

    __slots__ = ("_key", "source")

    def __init__(self, key: bytes, *, source: str = "key") -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key
        self.source = source  # "TUTOR_HASH_KEY" or the key file's path: for the operator, not secret

    def __repr__(self) -> str:  # never the key
        return f"Pseudonyms(source={self.source!r})"

    @classmethod
    def from_settings(cls, hash_key: str | None, key_file: Path) -> Pseudonyms:
        """The configured secret if there is one, else the key file (created on first run)."""
        if hash_key is not None and hash_key.strip():
            secret = hash_key.strip().encode("utf-8")
            if len(secret) < 16:
                raise ValueError("TUTOR_HASH_KEY is too short: use at least 16 random characters")
            return cls(secret, source="TUTOR_HASH_KEY")
        return cls(load_or_create_key(key_file), source=str(key_file))

    def of(self, user_id: int | str) -> str:
        """The pseudonym of a Discord user id: 32 hex characters, the same for the same key."""
        message = f"discord-user:{str(user_id).strip()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_CHARS]


def load_or_create_key(key_file: Path) -> bytes:
    """Read the key file, or create it atomically with mode 0600.

    The key is written to a private temporary file (``O_CREAT | O_EXCL``, 0600), synced, then
    hard-linked into place: a crash never leaves a half-written key, and of two processes
    starting at once, one wins and the other reads its key. A damaged key file is an error,
    not a reason to make a new key: a new key would silently split every user in two.
    """
    try:
        return _read_key(key_file)
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (key.hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, key_file)
    except FileExistsError:
        return _read_key(key_file)  # another process made it first: use theirs
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _sync_directory(key_file.parent)
    log.info("generated a new pseudonym key in %s (keep it with the database; never commit it)", key_file)
    return key


def _read_key(key_file: Path) -> bytes:
    mode = stat.S_IMODE(os.stat(key_file).st_mode)
    if mode & 0o077:
        log.warning("pseudonym key file %s was readable by others (mode %o); restricting it to 0600", key_file, mode)
        os.chmod(key_file, 0o600)
    text = key_file.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise ValueError(
            f"pseudonym key file {key_file} is damaged (expected {KEY_BYTES * 2} hex characters); restore it "
            "from a backup, or remove it to start new pseudonyms (old rows can then no longer be matched to users)"
        )
    return key


def _sync_directory(directory: Path) -> None:
    """Make the new file's name durable too (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
