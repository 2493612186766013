"""A live Havens server with the demo data, and a real Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from havens.config import Settings
from tests.conftest import ARTIFACTS, _postgres_database

CHROMIUM = os.environ.get("HAVENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[str]:
    if database_url.startswith("postgresql"):
        with _postgres_database(database_url, "live") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"


@pytest.fixture(scope="session")
def live_server(live_database_url: str, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn in a thread, on a database holding the demo."""
    import uvicorn

    from havens.config import get_settings
    from havens.database import make_engine, session_factory
    from havens.demo import loader
    from havens.main import create_app
    from havens.models import metadata
    from havens.orgs.permissions import Principal

    live_settings = settings.model_copy(update={"database_url": live_database_url})
    engine = make_engine(live_database_url)
    metadata.create_all(engine)
    # The demo encrypts and signs with the process's settings: make them the server's.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("database_url", "data_dir", "secret_key", "field_keys"):
            patch.setenv(f"HAVENS_{name.upper()}", str(getattr(live_settings, name)))
        get_settings.cache_clear()
        with session_factory(engine)() as db:
            loader.load(db, actor=Principal.system())
            db.commit()
    get_settings.cache_clear()
    app = create_app(live_settings, session_maker=session_factory(engine))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot for reviewers under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")
