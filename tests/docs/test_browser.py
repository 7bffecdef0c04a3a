"""The docs site as a reader meets it: built, served on loopback and driven in headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skipped, saying
so, only where neither can be found. Screenshots of the home page and an endpoint page are kept
in ``build/docs-screenshots/`` (ignored by git) for review.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from generator.pipeline import load_package
from tests.helpers import ROOT, SPECS

ENDPOINTS = load_package(SPECS).endpoints
SCREENSHOTS = ROOT / "build" / "docs-screenshots"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Offline and quiet: no sandbox (CI runs as root), no GPU, nothing fetched in the background.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1400",
)
WAIT = 20  # seconds for the page's scripts (search index, tabs) to do their work
PAGE = ENDPOINTS[[endpoint.endpoint_id for endpoint in ENDPOINTS].index("fal-ai/flux-1/schnell")]


def find_chromium() -> tuple[str, str] | None:
    """Chromium and its driver, from the system's packages."""
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """The built site over HTTP on loopback (search loads its index with fetch, not from file:)."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    found = find_chromium()
    if found is None:
        pytest.skip(
            "no Chromium found (looked for chromedriver and "
            + ", ".join(BROWSERS)
            + "): install Debian's chromium and chromium-driver, as .ci/run does"
        )
    binary, driver_path = found
    with tempfile.TemporaryDirectory(prefix="falgen-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver: WebDriver, condition: Any) -> Any:
    return WebDriverWait(driver, WAIT).until(lambda _: condition())


def screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page (the window stretched to its height), for review."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height), 6000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1400)
    print(f"docs screenshot: {path}")
    return path


def endpoint_href(endpoint_module: str) -> str:
    return f"endpoints/{endpoint_module}/"


def test_the_home_page_lists_every_endpoint_with_a_summary(
    browser: WebDriver, base_url: str
) -> None:
    browser.get(base_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "article table tbody tr")
    linked = {}
    for row in rows:
        link, summary = row.find_elements(By.TAG_NAME, "td")
        href = link.find_element(By.TAG_NAME, "a").get_attribute("href") or ""
        linked[href.removeprefix(base_url)] = summary.text
    assert set(linked) == {endpoint_href(endpoint.module) for endpoint in ENDPOINTS}
    assert all(summary.strip() for summary in linked.values()), linked
    assert screenshot(browser, "home").stat().st_size > 10_000


def test_an_endpoint_page_shows_its_examples_in_tabs(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + endpoint_href(PAGE.module))
    examples = browser.find_element(By.CSS_SELECTOR, "article .tabbed-set")
    labels = examples.find_elements(By.CSS_SELECTOR, ".tabbed-labels > label")
    assert [label.text for label in labels] == ["Python", "Python (async)", "Command line", "curl"]
    blocks = examples.find_elements(By.CSS_SELECTOR, ".tabbed-content > .tabbed-block")
    assert [block.is_displayed() for block in blocks] == [True, False, False, False]
    assert f"client.{PAGE.attribute}(" in blocks[0].text
    labels[3].click()
    wait_for(browser, lambda: blocks[3].is_displayed() and not blocks[0].is_displayed())
    assert "curl --request POST" in blocks[3].text
    assert screenshot(browser, "endpoint").stat().st_size > 10_000


def test_parameter_names_and_values_read_on_one_line(browser: WebDriver, base_url: str) -> None:
    """The issue a reader met: names broken mid-word in a squeezed table column."""
    browser.get(base_url + endpoint_href(PAGE.module))
    names = browser.find_elements(By.CSS_SELECTOR, "article dl dt > code:first-child")
    assert [name.text for name in names[: len(PAGE.input.fields)]] == [
        field.name for field in PAGE.input.fields
    ]
    values = browser.find_elements(
        By.XPATH, "//article//dd/p[starts-with(normalize-space(), 'Possible values:')]/code"
    )
    assert len(values) >= 6  # image_size's presets, output_format's and acceleration's values
    for element in [*names, *values]:
        assert line_boxes(browser, element) == 1, f"{element.text!r} wraps"


def line_boxes(driver: WebDriver, element: WebElement) -> int:
    """How many line boxes an inline element takes: more than one when it wraps."""
    return int(driver.execute_script("return arguments[0].getClientRects().length", element))


def test_search_finds_an_endpoint_by_name(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url)
    query = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    browser.find_element(By.CSS_SELECTOR, "label.md-search__icon, .md-search__form").click()
    query.send_keys("schnell")

    def hits() -> list[str]:
        links = browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item a")
        return [link.get_attribute("href") or "" for link in links]

    found = wait_for(browser, hits)
    assert any(href.startswith(base_url + endpoint_href(PAGE.module)) for href in found), found
