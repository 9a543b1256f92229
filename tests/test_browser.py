"""
The example host's pages in a real browser: Swagger UI (/api/docs/), ReDoc
(/api/redoc/) and every admin changelist of the package, opened in headless
Chromium on the live server. A page fails when the browser logs an error to
its console (a script or stylesheet that did not load: a CDN is unreachable
without internet) or when it stays blank (its known element never renders).

Needs Debian's chromium and chromium-driver (`.ci/run` installs them). Without
them the test is skipped, unless the environment variable CI is set: in CI a
missing browser is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse
from model_bakery import baker

from django_torgovo_subscriptions.models import SubscriptionPlan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# Seconds a page may take to render its known element (Swagger UI and ReDoc
# render in the browser after fetching /api/schema/).
RENDER_TIMEOUT = 15

DOC_PAGES = [
    ("/api/docs/", ".swagger-ui .opblock"),
    ("/api/redoc/", ".redoc-wrap"),
]
# Failures that do not break a page, each with its reason; nothing else may fail.
HARMLESS_FAILURES = (
    # ReDoc's sidebar footer shows Redocly's logo from Redocly's CDN and hides
    # the image when it does not load (the link text stays): the one request
    # to the internet these pages make.
    "https://cdn.redoc.ly/redoc/logo-mini.svg - Failed to load resource",
    # The browser's own request for the site's icon, which the example host
    # (like the admin's pages) does not have.
    "{live_server}/favicon.ico - Failed to load resource: the server responded with a "
    "status of 404",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [
        name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path
    ]
    if missing:
        reason = (
            f"{' and '.join(missing)} not found on PATH (apt-get install chromium chromium-driver)"
        )
        if in_ci():
            pytest.fail(f"CI is set, so the browser test must run: {reason}")
        pytest.skip(reason)
    try:
        from selenium import webdriver
    except ImportError:
        pytest.fail("selenium is missing: it is in the test dependency group of pyproject.toml")

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER)
    )
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver, base_url: str) -> list[str]:
    """The console errors since the last call (reading the log empties it)."""
    harmless = tuple(failure.format(live_server=base_url) for failure in HARMLESS_FAILURES)
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and not entry["message"].startswith(harmless)
    ]


def problems_of(driver, base_url: str, path: str, selector: str) -> list[str]:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    url = base_url + path
    driver.get(url)
    problems = []
    try:
        WebDriverWait(driver, RENDER_TIMEOUT).until(
            expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, selector))
        )
    except TimeoutException:
        problems.append(f"{url}: nothing matching {selector!r} rendered (a blank page?)")
    problems += [f"{url}: console error: {message}" for message in console_errors(driver, base_url)]
    return problems


def package_changelists() -> list[tuple[str, Any]]:
    return sorted(
        (reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"), model)
        for model in admin.site._registry
        if model._meta.app_label == "subscriptions"
    )


def wait_for_element(driver, by: str, value: str, seconds: float = RENDER_TIMEOUT) -> bool:
    """True once an element matching (by, value) is on the page, False after ``seconds``."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, seconds).until(lambda d: d.find_elements(by, value))
    except TimeoutException:
        return False
    return True


def log_in(driver, base_url: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/admin/login/?next=/admin/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    # click() returns before the next page has loaded: wait for it.
    assert wait_for_element(driver, By.ID, "user-tools"), "the admin login failed"
    assert console_errors(driver, base_url) == []


@pytest.mark.parametrize("path", [path for path, _selector in DOC_PAGES])
def test_the_doc_pages_load_their_files_from_this_server(client, path):
    """Without a browser too: every script, stylesheet and icon is a local static file."""
    import re

    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert [url for url in assets if not url.startswith("/static/drf_spectacular_sidecar/")] == []
    assert "https://" not in html


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_and_redoc_render_without_console_errors(browser, live_server):
    SubscriptionPlan.objects.create(name="Basic", slug="basic", monthly_price="29.00")
    problems = []
    for path, selector in DOC_PAGES:
        problems += problems_of(browser, live_server.url, path, selector)
    assert problems == [], "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_every_admin_changelist_of_the_package_renders_without_console_errors(
    browser, live_server, django_user_model
):
    changelists = package_changelists()
    assert len(changelists) >= 10
    for _url, model in changelists:
        baker.make(model)  # a row, so the result list renders its columns
    django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    log_in(browser, live_server.url, "root", "pw")

    problems = []
    for url, _model in changelists:
        problems += problems_of(browser, live_server.url, url, "#changelist #result_list tbody tr")
    assert problems == [], "\n".join(problems)
