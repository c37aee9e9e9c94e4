"""The web view in a real headless chromium (Debian's, through selenium) against a real
`syncd run` syncing the sample org (with tests/web_env.py's records) to a real slapd,
signed in by HTTP basic against a bcrypt password file. Each test writes screenshots of
the pages it opens to docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from syncd.testing.slapd import Slapd
from tests.daemon_env import DaemonProcess, daemon_config
from tests.htpasswd import write_htpasswd
from tests.sync_env import SyncEnv
from tests.web_env import INTERNAL, PUBLIC_EMAIL, SECRETS, chromium, web_org

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
USERS = {"alice": "alice-pw-æøå", "rita": "rita-pw"}  # alice is the admin


class Site:
    """`syncd run` on a SyncEnv with the web view on, and browsers signed in to it."""

    def __init__(self, root: Path, slapd: Slapd, max_deletes: int = 50,
                 interval: str = "1h"):
        self.env = SyncEnv(root, slapd, max_deletes=max_deletes)
        self.env.org = web_org()
        self.env.write_org()
        htpasswd = write_htpasswd(root / "web.htpasswd", USERS)
        self.port = daemon_config(self.env, interval=interval, extra=f"""\
web:
  htpasswd: {htpasswd}
  admins: [alice]
""")
        self.daemon = DaemonProcess(self.env.config, self.port, root / "daemon.log")
        self.root = root

    def start(self) -> Site:
        self.daemon.start()
        self.daemon.wait_for(lambda: self.daemon.target()["result"] is not None,
                             "the first cycle", timeout=120)
        assert self.daemon.target()["result"] == "success", self.daemon.target()
        return self

    def url(self, path: str, user: str | None = None) -> str:
        """The page's address; with `user`, their password in it (how a browser signs in
        by HTTP basic without a prompt; it then keeps it for the site)."""
        if user is None:
            return f"http://127.0.0.1:{self.port}{path}"
        secret = urllib.parse.quote(USERS[user], safe="")
        return f"http://{user}:{secret}@127.0.0.1:{self.port}{path}"

    def browser(self, user: str, name: str, width: int = 1280, height: int = 900
                ) -> WebDriver:
        driver = chromium(self.root / f"chromium-{name}", width, height)
        driver.get(self.url("/", user))
        return driver


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("browser")
    slapd = Slapd(root / "slapd")
    slapd.start()
    running = Site(root, slapd)
    try:
        yield running.start()
    finally:
        running.daemon.kill()
        slapd.close()


@pytest.fixture
def reader(site: Site) -> Iterator[WebDriver]:
    driver = site.browser("rita", "reader")
    yield driver
    driver.quit()


@pytest.fixture
def admin(site: Site) -> Iterator[WebDriver]:
    driver = site.browser("alice", "admin")
    yield driver
    driver.quit()


def screenshot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / name))


def text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def search(driver: WebDriver, words: str) -> None:
    """Type in the search box and press Enter, as a keyboard user does."""
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(words, Keys.ENTER)
    # the results page, not the page the form was on (Enter returns before it loads)
    WebDriverWait(driver, 10).until(lambda d: "/search?q=" in d.current_url
                                    and d.find_elements(By.TAG_NAME, "h1"))


def test_an_unauthenticated_request_gets_401_and_no_data(site: Site) -> None:
    for path in ("/", "/persons/w-soeren", "/units/w-bib", "/search?q=s%C3%B8ren",
                 "/targets"):
        status, body = site.daemon.get(path)
        assert status == 401, path
        assert "Ærø" not in body and "Søren" not in body


def test_a_wrong_password_gets_401(site: Site) -> None:
    status, body = site.daemon.request("GET", "/", {
        "Authorization": "Basic cml0YTpub3QtaGVyLXBhc3N3b3Jk"})  # rita:not-her-password
    assert status == 401 and "Kolding" not in body


def test_a_reader_finds_a_person_and_sees_the_address_book(
        site: Site, reader: WebDriver) -> None:
    assert "Kolding Kommune" in text(reader) and "Kolding Forsyning A/S" in text(reader)
    screenshot(reader, "tree.png")
    search(reader, "søren ærø")
    assert "/search?q=" in reader.current_url
    screenshot(reader, "search.png")
    reader.find_element(By.LINK_TEXT, "Søren Ærø").click()
    page = text(reader)
    assert "Manager: Åse Østergård" in page
    assert PUBLIC_EMAIL in page
    for hidden in (*SECRETS, *INTERNAL[:2], "Accounts in the targets", "soerenae"):
        assert hidden not in page
    assert "Targets" not in page  # no link to the admins' page


def test_a_reader_gets_403_on_targets(site: Site, reader: WebDriver) -> None:
    reader.get(site.url("/targets"))
    assert "this page is for admins" in text(reader)
    rita = {"Authorization": "Basic cml0YTpyaXRhLXB3"}  # rita:rita-pw
    assert site.daemon.request("GET", "/targets", rita)[0] == 403
    assert site.daemon.request("GET", "/persons/nobody", rita)[0] == 404


def test_an_admin_sees_the_account_in_the_directory(site: Site, admin: WebDriver) -> None:
    search(admin, "SOEREN.AEROE@KOLDING.EXAMPLE")  # the email, in any case
    admin.find_element(By.LINK_TEXT, "Søren Ærø").click()
    page = text(admin)
    dn, attributes = site.env.user("w-soeren")  # as slapd has it
    assert dn.lower() in page.lower()
    assert f"{attributes['uid'][0]}" in page and "active since" in page
    assert INTERNAL[0] in page and PUBLIC_EMAIL in page
    for hidden in SECRETS:
        assert hidden not in page
    assert "Last changes to the accounts" in page and "rule: users" in page
    screenshot(admin, "person.png")


def test_an_admin_opens_a_unit_and_sees_its_members_and_groups(
        site: Site, admin: WebDriver) -> None:
    admin.find_element(By.LINK_TEXT, "Ærøskøbing Bibliotek").click()  # in the open tree
    page = text(admin)
    assert "Søren Ærø" in page and "Bibliotekar" in page and "Åse Østergård" in page
    groups = admin.find_element(By.XPATH, "//section[h2[@id='h-groups']]").text
    [group_dn] = [dn for dn in site.env.search("(businessCategory=*units:w-bib*)",
                                               f"ou=groups,{site.env.base}")]
    assert group_dn.lower() in groups.lower() and "active" in groups
    screenshot(admin, "unit.png")


def test_the_tree_opens_by_keyboard(site: Site, admin: WebDriver) -> None:
    summary = admin.find_element(
        By.XPATH, "//summary[a[normalize-space()='Ærøskøbing Bibliotek']]")
    details = summary.find_element(By.XPATH, "..")
    assert details.get_attribute("open") is None
    admin.execute_script("arguments[0].focus()", summary)  # as Tab reaches it
    summary.send_keys(Keys.SPACE)
    assert details.get_attribute("open") is not None
    assert admin.find_element(By.LINK_TEXT, "Børnebiblioteket").is_displayed()


def test_a_narrow_screen(site: Site) -> None:
    driver = chromium(site.root / "chromium-narrow")
    try:  # a phone's screen (a headless window is 500 px at the least)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        driver.get(site.url("/persons/w-soeren", "alice"))
        assert "Søren Ærø" in text(driver)
        widths = driver.execute_script("return [window.innerWidth, "
                                       "document.documentElement.scrollWidth]")
        assert widths == [390, 390]  # nothing wider than the screen: no sideways scrolling
        screenshot(driver, "narrow-person.png")
    finally:
        driver.quit()


def test_a_guard_hold_after_a_mass_removal(tmp_path: Path, slapd: Slapd) -> None:
    # cycles every 2 s: a cycle reads the sources again (one read serves 1 s at most)
    guarded = Site(tmp_path, slapd, max_deletes=5, interval="2s").start()
    try:
        org = guarded.env.org
        org["engagements"] = org["engagements"][:20]  # most people leave at once
        guarded.env.write_org()
        guarded.daemon.wait_for(lambda: guarded.daemon.target()["result"] == "guarded",
                                "the guarded cycle", timeout=120)
        driver = guarded.browser("alice", "guarded")
        try:
            driver.get(guarded.url("/targets"))
            page = text(driver)
            assert "guarded" in page and "Held back by a guard" in page
            held = guarded.daemon.target()["counts"]["held"]
            assert "deletes:" in page and "over the limit of 5" in page
            assert f"{held} change(s) held back" in page
            driver.find_element(By.TAG_NAME, "summary").send_keys(Keys.ENTER)
            assert "disable user" in text(driver)
            # what the next cycle would change: planned in the daemon, on request
            assert "Not planned yet" in text(driver)
            driver.find_element(By.XPATH, "//button[starts-with(., 'Plan ldap')]").click()
            guarded.daemon.wait_for(lambda: "Planning for" not in _reloaded(driver), "the preview")
            page = text(driver)
            assert re.search(r"planned at .* from the last ingest: \d+ change\(s\)", page), page
            assert f"would hold them: {held} over the limit of 5" in page
            assert guarded.daemon.target()["counts"]["held"] == held  # nothing was applied
            screenshot(driver, "targets.png")
            # a later cycle that fails says nothing of what an earlier one held back
            (guarded.env.root / "org.json").write_text("{ not json", encoding="utf-8")
            guarded.daemon.wait_for(lambda: guarded.daemon.target()["result"] == "failure",
                                    "the failed cycle", timeout=120)
            assert "Held back by a guard" not in _reloaded(driver)
        finally:
            driver.quit()
    finally:
        guarded.daemon.kill()



def _reloaded(driver: WebDriver) -> str:
    driver.refresh()
    return text(driver)
