"""Where the API key comes from, and where ``dexbulk auth login`` puts it.

Lookup order, first found wins (an empty value counts as absent, except an explicit flag):

1. ``--api-key`` (source ``--api-key``); the CLI warns that it shows in the process list.
2. ``DEX_API_KEY`` (source ``env DEX_API_KEY``).
3. The OS keyring: service ``dexbulk``, username = the profile name (source ``keyring``).
4. The profile's ``api_key`` in the config file (source ``config <path> [table]``), as
   :func:`dexbulk.settings.resolve_settings` found it: the file is not read again.

``keyring`` is an optional extra and slow to import, so it is imported only when a lookup gets
that far. Any keyring failure (not installed, no backend, locked, a D-Bus error) means "no
keyring", never a crash: :func:`store_api_key` then falls back to the config file, mode 0600.
No keyring at all (not installed, no backend) is a normal setup, told apart from a keyring that
failed (locked, D-Bus) so that ``auth status`` mentions it only when asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dexbulk.configfile import (
    DEFAULT_PROFILE,
    ensure_profile_table,
    remove_api_key,
    show_path,
    write_api_key,
)
from dexbulk.errors import ConfigError, InvalidInput, MissingCredentials
from dexbulk.secret import ApiKey

if TYPE_CHECKING:
    from dexbulk.settings import Settings

SERVICE = "dexbulk"
KEY_ENV = "DEX_API_KEY"
KEY_PREFIX = "dex_"
FLAG_SOURCE = "--api-key"
KEYRING_SOURCE = "keyring"


class KeyringBackendLike(Protocol):
    """What we use of a ``keyring`` backend; tests pass an in-memory fake."""

    def get_password(self, service: str, username: str) -> str | None: ...
    def set_password(self, service: str, username: str, password: str) -> None: ...
    def delete_password(self, service: str, username: str) -> None: ...


@dataclass(frozen=True)
class KeyStatus:
    """What ``dexbulk auth status`` shows. Nothing here reveals the key."""

    source: str | None
    """Where the key in use comes from; None when there is no key."""
    masked: str | None
    looks_like_dex_key: bool
    """False when the key does not start with ``dex_``: worth a warning, not a refusal."""
    shadowed: tuple[str, ...]
    """Lower-priority sources that also hold a key (and are therefore ignored)."""
    keyring_problem: str | None
    """Why the keyring could not be used, when it could not."""
    keyring_absent: bool = False
    """The problem is only that there is no keyring (not installed, no backend): a normal
    setup, not worth a line unless asked."""
    key: ApiKey | None = field(default=None, repr=False, compare=False)
    """The key in use (masked in any output), so that checking it needs no second lookup."""


def validate_api_key(text: str, *, source: str) -> ApiKey:
    """Wrap a key after light checks: non-empty, and nothing that cannot go in an HTTP header.

    Whitespace or control characters inside, or characters outside Latin-1 (a smart quote, an
    emoji), would make ``requests`` fail at the first request with a traceback, or send a
    header that Dex cannot match; they mean a bad paste. Errors name the source, never the key.
    A key not starting with ``dex_`` is accepted; see :func:`looks_like_dex_key`.
    """
    key = ApiKey(text, source=source)
    error = ConfigError if source.startswith("config ") else InvalidInput
    if not key:
        raise error(f"{source}: the API key is empty")
    revealed = key.reveal()
    if not revealed.isprintable() or any(c.isspace() for c in revealed):
        raise error(
            f"{source}: the API key contains whitespace or control characters",
            hint="copy the key again from Dex (Settings → API)",
        )
    beyond = next((i for i, c in enumerate(revealed) if ord(c) > 0xFF), None)
    if beyond is not None:  # http.client encodes header values as Latin-1
        raise error(
            f"{source}: the API key contains a character that cannot be sent in an HTTP "
            f"header (character {beyond + 1} of {len(revealed)}, not Latin-1)",
            hint="copy the key again from Dex (Settings → API); a text editor may have "
            "replaced a character",
        )
    return key


def looks_like_dex_key(key: ApiKey) -> bool:
    """Whether the key has the ``dex_`` prefix Dex keys carry (a hint of a bad paste if not)."""
    return key.reveal().startswith(KEY_PREFIX)


def find_api_key(
    *,
    flag: str | None,
    env: Mapping[str, str],
    settings: Settings,
    keyring_backend: KeyringBackendLike | None = None,
) -> ApiKey:
    """Return the first key found: flag, ``DEX_API_KEY``, keyring, config file.

    ``settings`` gives the profile and what the config file held (it is not read again).
    ``keyring_backend`` None means the ``keyring`` module's backend, if it is installed.
    Raises :class:`MissingCredentials` when there is none, :class:`InvalidInput` when the key
    found first is malformed.
    """
    keyring = _Keyring(keyring_backend)
    for source, text in _candidates(flag, env, settings, keyring):
        return validate_api_key(text, source=source)
    raise MissingCredentials(
        f"no API key: none in {KEY_ENV}, the keyring or {show_path(settings.path)}",
        hint=f"run 'dexbulk auth login' to store one, or set {KEY_ENV}",
    )


def key_status(
    *,
    flag: str | None,
    env: Mapping[str, str],
    settings: Settings,
    keyring_backend: KeyringBackendLike | None = None,
) -> KeyStatus:
    """Describe the key a run would use, and every other source that holds one."""
    keyring = _Keyring(keyring_backend)
    found = list(_candidates(flag, env, settings, keyring))
    if not found:
        return KeyStatus(None, None, False, (), keyring.problem, keyring.absent)
    key = validate_api_key(found[0][1], source=found[0][0])
    shadowed = tuple(source for source, _ in found[1:])
    return KeyStatus(
        key.source, key.masked, looks_like_dex_key(key), shadowed, keyring.problem,
        keyring.absent, key,
    )  # fmt: skip


def store_api_key(
    key: ApiKey,
    *,
    profile: str,
    config_path: Path,
    keyring_backend: KeyringBackendLike | None = None,
) -> str:
    """Save the key for the profile: keyring first, else the config file (mode 0600).

    Returns where it went: ``"keyring"`` or the config file's path. When the keyring takes it,
    the profile also gets a (keyless) table in the config file if it had none, so that
    ``--profile NAME`` is a known profile afterwards.
    """
    key = validate_api_key(key.reveal(), source=key.source)
    keyring = _Keyring(keyring_backend)
    if keyring.set(profile, key.reveal()):
        if profile != DEFAULT_PROFILE:
            ensure_profile_table(config_path, profile)
        return KEYRING_SOURCE
    write_api_key(config_path, profile, key)
    return show_path(config_path)


def delete_api_key(
    *, profile: str, config_path: Path, keyring_backend: KeyringBackendLike | None = None
) -> list[str]:
    """Remove the profile's key from the keyring and the config file; return where it was."""
    removed = []
    if _Keyring(keyring_backend).delete(profile):
        removed.append(KEYRING_SOURCE)
    if remove_api_key(config_path, profile):
        removed.append(show_path(config_path))
    return removed


def _candidates(
    flag: str | None, env: Mapping[str, str], settings: Settings, keyring: _Keyring
) -> Iterator[tuple[str, str]]:
    """Yield (source, raw key) in lookup order, lazily: the keyring is imported only if reached."""
    if flag is not None:  # an explicit empty --api-key "" is a mistake worth an error
        yield FLAG_SOURCE, flag
    if env.get(KEY_ENV, "").strip():
        yield f"env {KEY_ENV}", env[KEY_ENV]
    stored = keyring.get(settings.profile)
    if stored and stored.strip():
        yield KEYRING_SOURCE, stored
    if settings.file_api_key is not None:
        yield settings.file_api_key.source, settings.file_api_key.reveal()


class _Keyring:
    """A keyring that never raises: a failure sets ``problem`` and reads as "no keyring"."""

    def __init__(self, backend: KeyringBackendLike | None) -> None:
        self._backend = backend
        self._loaded = backend is not None
        self.problem: str | None = None
        self.absent = False
        """True when the problem is only that there is no keyring (not installed, no backend)."""

    def _get_backend(self) -> KeyringBackendLike | None:
        if not self._loaded:
            self._loaded = True
            try:
                import keyring  # slow (~80 ms) and optional: only when a lookup gets here

                self._backend = keyring.get_keyring()
            except ImportError:
                self.problem = "keyring is not installed (pip install 'dexbulk[keyring]')"
                self.absent = True
            except Exception as exc:  # a backend failing to initialise must not stop a run
                self._failed(exc)
        return self._backend

    def _failed(self, exc: Exception, secret: str | None = None) -> None:
        self.problem = _describe(exc) if secret is None else _describe(exc).replace(secret, "***")
        # keyring's fail.Keyring raises NoKeyringError on every call: no backend was found.
        self.absent = any(cls.__name__ == "NoKeyringError" for cls in type(exc).__mro__)

    def get(self, profile: str) -> str | None:
        backend = self._get_backend()
        if backend is None:
            return None
        try:
            value = backend.get_password(SERVICE, profile)
        except Exception as exc:  # NoKeyringError, KeyringLocked, D-Bus errors...
            self._failed(exc)
            return None
        return value if isinstance(value, str) else None

    def set(self, profile: str, secret: str) -> bool:
        backend = self._get_backend()
        if backend is None:
            return False
        try:
            backend.set_password(SERVICE, profile, secret)
            # Read it back: the null backend (how people disable keyring) drops it silently.
            kept = backend.get_password(SERVICE, profile) == secret
        except Exception as exc:
            self._failed(exc, secret)
            return False
        if not kept:
            self.problem = f"{type(backend).__name__} did not keep the key"
        return kept

    def delete(self, profile: str) -> bool:
        backend = self._get_backend()
        # Look first: backends disagree on whether deleting a missing key raises.
        if backend is None or not self.get(profile):
            return False
        try:
            backend.delete_password(SERVICE, profile)
        except Exception as exc:
            self._failed(exc)
            return False
        return True


def _describe(exc: Exception) -> str:
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
