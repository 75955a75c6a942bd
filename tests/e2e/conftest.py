"""Fixtures for the browser tests: the service on a loopback port and headless Chromium.

The service runs in a thread of the test process over the ``full_home`` index;
Chromium is the system one (``/usr/bin/chromium``) driven by Playwright, never a
browser downloaded by ``playwright install``. Without either, the tests skip.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Service:
    """The running service: its base URL and a JSON getter for cross-checks."""

    base: str

    def get(self, path: str) -> Any:
        """GET ``path`` from the API and decode the JSON body."""
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.load(response)

    def error(self, path: str) -> dict[str, Any]:
        """GET ``path``, which must fail, and return the API's error object."""
        try:
            urllib.request.urlopen(self.base + path, timeout=30).close()
        except urllib.error.HTTPError as failure:
            body: dict[str, Any] = json.load(failure)
            return body["error"]  # type: ignore[no-any-return]
        raise AssertionError(f"{path} did not fail")


@dataclass
class Browsed:
    """A page with every URL it requested, to prove nothing left the loopback origin."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a screenshot of the viewport under ``screenshots/``."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def foreign_requests(self) -> list[str]:
        """Requested URLs whose origin is not the service's."""
        origin = urlsplit(self.base)
        return [
            url
            for url in self.requests
            if (urlsplit(url).scheme, urlsplit(url).netloc)
            != (origin.scheme, origin.netloc)
        ]


def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; run .ci/install-browser.sh")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed; run .ci/install-browser.sh")
    return sync_playwright


@pytest.fixture(scope="session")
def service(full_home: Path) -> Iterator[Service]:
    """The medcodes app served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    from service.app import create_app

    # Bind first and hand the socket over, so no other process can take the port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(full_home), log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start within 20 s")
        time.sleep(0.05)
    running = Service(f"http://127.0.0.1:{port}")
    running.get("/api/health")  # loads the index before the first browser test
    yield running
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless system Chromium."""
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def _browse(
    browser: Any, service: Service, viewport: dict[str, int]
) -> Iterator[Browsed]:
    context = browser.new_context(viewport=viewport, base_url=service.base)
    context.set_default_timeout(10_000)
    page = context.new_page()
    browsed = Browsed(page, service.base)
    page.on("request", lambda request: browsed.requests.append(request.url))
    page.on("dialog", lambda dialog: _dismiss(browsed, dialog))
    yield browsed
    context.close()
    assert browsed.foreign_requests() == [], "the page requested another origin"
    # An alert would mean markup from the data or the query ran as script.
    assert browsed.dialogs == [], "the page opened a script dialog"


def _dismiss(browsed: Browsed, dialog: Any) -> None:
    browsed.dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


@pytest.fixture
def browsed(browser: Any, service: Service) -> Iterator[Browsed]:
    """A fresh desktop-size page; on teardown, checks it stayed on the service."""
    yield from _browse(browser, service, DESKTOP)


@pytest.fixture
def phone(browser: Any, service: Service) -> Iterator[Browsed]:
    """A fresh phone-size page (390 x 844 CSS pixels)."""
    yield from _browse(browser, service, {"width": 390, "height": 844})
