"""Headless Chromium for browser tests, from the Debian ``chromium`` package, driven by Playwright.

:func:`browser_page` launches the system's Chromium through Playwright for Python (no browser
download: ``playwright install`` is never needed), yields a page, and closes everything when the
``with`` block ends. While the page lives, a :class:`BrowserRecord` collects its console errors,
uncaught page errors and the URL of every request it makes. Requests to anything but loopback
are recorded and then aborted, so a page that reaches for a CDN fails fast instead of waiting on
a network these machines do not have.

WebGL (3Dmol.js) works headless through SwiftShader, Chromium's software renderer; Playwright
passes ``--enable-unsafe-swiftshader`` already, and :data:`LAUNCH_ARGS` repeats it so that WebGL
does not depend on Playwright's defaults.

When Chromium or Playwright is missing, :func:`unavailable` says why, and a fixture built on this
module should skip with that reason. It needs only the standard library and ``playwright``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM_PATHS = [Path("/usr/bin/chromium")]
LAUNCH_ARGS = ["--enable-unsafe-swiftshader"]
"""Extra Chromium switches: software WebGL (SwiftShader) for 3Dmol.js without a GPU."""
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about", "file"}


def chromium_path() -> str | None:
    """The Chromium executable: ``$MOLGEN_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on PATH.

    Returns:
        The path as a string, or None when none of them is an executable file.
    """
    env = os.environ.get("MOLGEN_CHROMIUM")
    for p in [Path(env)] if env else CHROMIUM_PATHS:
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None if env else shutil.which("chromium")


def unavailable() -> str | None:
    """Why no browser test can run here, or None when one can."""
    if chromium_path() is None:
        return "Chromium not found (Debian package `chromium`, or set MOLGEN_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright; no `playwright install`)"
    return None


def is_loopback(url: str) -> bool:
    """True for a URL served by this machine (127.0.0.1, localhost, ::1) or with no host at all
    (``data:``, ``blob:``, ``about:``, ``file:`` for a report opened from disk)."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS


@dataclass
class BrowserRecord:
    """What a page did, filled in by :func:`browser_page` while the page lives.

    Attributes:
        console_errors: text of each ``console.error`` message (and of Chromium's own error
            messages, such as a failed resource load), in order.
        page_errors: message of each uncaught JavaScript exception.
        requests: URL of every request the page made, loopback or not, in order.
        failed_requests: ``"URL: reason"`` for each request that failed or was aborted.
    """

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        """The recorded request URLs that were not to loopback (these were aborted)."""
        return [u for u in self.requests if not is_loopback(u)]


@contextmanager
def browser_page(
    record: BrowserRecord,
    *,
    viewport: tuple[int, int] = (800, 600),
    timeout_ms: float = 30_000,
) -> Iterator[Page]:
    """A headless Chromium page whose activity is written into ``record``.

    Args:
        record: filled in place with console errors, page errors and request URLs.
        viewport: page size in CSS pixels, (width, height).
        timeout_ms: default timeout of the page's actions and waits, in milliseconds.

    Yields:
        A Playwright ``Page``; the browser is closed when the block ends, even on error.

    Raises:
        RuntimeError: when :func:`unavailable` gives a reason (call it first to skip instead).
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    from playwright.sync_api import Route, sync_playwright

    def only_loopback(route: Route) -> None:
        if is_loopback(route.request.url):
            route.fallback()
        else:
            route.abort("blockedbyclient")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            context.set_default_timeout(timeout_ms)
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.on(
                "console",
                lambda m: record.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: record.page_errors.append(str(e)))
            page.on("request", lambda r: record.requests.append(r.url))
            page.on(
                "requestfailed",
                lambda r: record.failed_requests.append(f"{r.url}: {r.failure}"),
            )
            yield page
        finally:
            browser.close()
