"""Settings, read from the environment (prefix ``HAVENS_``) and an optional ``.env`` file."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVENS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./havens.db",
        description="SQLAlchemy URL; sqlite:///PATH (embedded) or postgresql://user@host/db.",
    )
    data_dir: Path = Field(default=Path("./var"), description="Folder for keys and uploads.")
    secret_key: str | None = Field(
        default=None,
        description="Signs cookies. Generated into DATA_DIR/secret_key on first run when unset.",
    )
    field_keys: str | None = Field(
        default=None,
        description=(
            "Keys for encrypted personal fields: comma-separated 'id:base64key' pairs, newest "
            "first. Generated into DATA_DIR/field_keys on first run when unset."
        ),
    )
    session_lifetime_minutes: int = Field(default=8 * 60, ge=5)
    cookie_secure: bool = Field(default=False, description="Send cookies over HTTPS only.")
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 30
    login_failure_window_minutes: int = 15
    default_language: str = "en"
    organisation_name: str = Field(
        default="Havens", description="Name of the organisation running this instance."
    )
    max_upload_mb: int = 50
    retention_months: int = Field(default=24, ge=1)  # after leaving: `havens retention apply`

    def resolved_secret_key(self) -> str:
        """The configured secret key, or the one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        return _read_or_create(self.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))

    def resolved_field_keys(self) -> list[tuple[str, bytes]]:
        """AES-256 keys for personal fields as (key id, key), the first one encrypts."""
        raw = self.field_keys or _read_or_create(
            self.data_dir / "field_keys",
            lambda: f"k1:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
        )
        keys = []
        for part in raw.split(","):
            key_id, _, encoded = part.strip().partition(":")
            key = base64.urlsafe_b64decode(encoded)
            if not key_id or len(key) != 32:
                raise ValueError("HAVENS_FIELD_KEYS: each entry must be 'id:base64(32 bytes)'")
            keys.append((key_id, key))
        return keys


def _read_or_create(path: Path, make: object) -> str:
    """The secret in ``path``, generated on first use.

    Written whole or not at all: a process killed while writing must not leave an empty key
    file behind (every later run would fail, and a half-written field key could never be
    recovered). The value goes to a private temporary file, is flushed to disk, then linked to
    ``path`` — which fails if another process got there first, and then its value is used.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = str(make())  # type: ignore[operator]
    # Created with owner-only permissions: it guards sessions and personal data.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text().strip()
        except OSError:  # a file system without hard links: create it exclusively instead
            _write_exclusively(path, value)
        # The new name must survive a power cut too: data encrypted under this key may be
        # committed a moment later.
        _fsync_directory(path.parent)
    finally:
        os.unlink(tmp)
    return value


def _write_exclusively(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@lru_cache
def get_settings() -> Settings:
    return Settings()
