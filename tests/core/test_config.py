from __future__ import annotations

import stat
from pathlib import Path

import pytest

from havens.config import Settings


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=None)
    first = settings.resolved_secret_key()
    assert len(first) >= 40
    assert Settings(data_dir=tmp_path / "data").resolved_secret_key() == first
    mode = stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_configured_secret_key_wins(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, secret_key="abc").resolved_secret_key() == "abc"
    assert not (tmp_path / "secret_key").exists()


def test_field_keys_are_generated_and_parsed(tmp_path: Path) -> None:
    keys = Settings(data_dir=tmp_path, field_keys=None).resolved_field_keys()
    assert len(keys) == 1 and len(keys[0][1]) == 32
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path, field_keys="k1:c2hvcnQ=").resolved_field_keys()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVENS_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("HAVENS_SESSION_LIFETIME_MINUTES", "30")
    settings = Settings()
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.session_lifetime_minutes == 30


def test_a_secret_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    from havens.config import _read_or_create

    def interrupted() -> str:
        raise KeyboardInterrupt  # as a process stopped while generating

    with pytest.raises(KeyboardInterrupt):
        _read_or_create(tmp_path / "field_keys", interrupted)
    assert list(tmp_path.iterdir()) == []
    # Another process wins the race while this one generates: its value is used, not ours.
    path = tmp_path / "field_keys"

    def racing() -> str:
        path.write_text("k1:theirs")
        return "k1:ours"

    assert _read_or_create(path, racing) == "k1:theirs"
    assert path.read_text() == "k1:theirs" and list(tmp_path.iterdir()) == [path]
    fresh = tmp_path / "secret_key"
    assert _read_or_create(fresh, lambda: "s3cret") == "s3cret" == fresh.read_text()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
