"""From a fresh clone, as a newcomer: `loyalty-social dev` (what `make run` runs), then only
what it prints. Follow the portal link in Chromium, link the Demo ID account and see the points
for linking; create a rule with the printed marketer command; send the printed webhooks; see
them pay. When `dev` stops, so does the Demo ID provider it started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .conftest import ROOT
from .services import free_port, wait_for_port

LINK_POINTS, SHARE_POINTS, REVIEW_POINTS = 25, 10, 50
PROVIDER_MODULE = "loyalty_social.demo.provider"


def newcomer_env(instance: Path) -> dict:
    """A shell with nothing of ours configured, the instance folder in a temp dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_SOCIAL_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["LOYALTY_SOCIAL_INSTANCE_PATH"] = str(instance)
    return env


class Dev:
    """`loyalty-social dev` in its own process; its printed output parsed as a reader would."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = newcomer_env(tmp_path / "instance")
        self.out = tmp_path / "dev.out"
        self.err = tmp_path / "dev.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "loyalty_social.cli",
                    "dev",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=err,
            )
        try:
            wait_for_port(self.port, 90)
        except TimeoutError:
            self.stop()
            pytest.fail(f"dev did not start:\n{self.log()}")
        self.text = self.out.read_text()

    def log(self) -> str:
        return self.out.read_text() + self.err.read_text()[-3000:]

    def printed(self, pattern: str) -> str:
        """The printed line matching ``pattern`` (a regex), without its indentation."""
        found = [line.strip() for line in self.text.splitlines() if re.search(pattern, line)]
        assert len(found) == 1, f"{pattern!r} in:\n{self.text}"
        return found[0]

    def run(self, command: str) -> subprocess.CompletedProcess:
        """A printed command, pasted into a shell."""
        return subprocess.run(
            ["bash", "-c", command],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def children(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        children = self.children()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        end_servers(children)


def end_servers(pids: list[int]) -> None:
    """Granian's worker is not under test here, but no test may leave one behind."""
    for pid in pids:
        if running(pid) and "granian" in cmdline(pid):
            os.kill(pid, signal.SIGTERM)
            wait_until_gone(pid)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's bookkeeping is left


def wait_until_gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def dev(tmp_path):
    server = Dev(tmp_path)
    yield server
    server.stop()


def balance(dev: Dev, expected: int) -> int:
    """The printed balance command's answer, once processing has caught up (or the last)."""
    command = dev.printed(r"/balance$")
    deadline = time.monotonic() + 30
    while True:
        answer = dev.run(command)
        assert answer.returncode == 0, answer.stderr
        points = json.loads(answer.stdout)["points"]
        if points == expected or time.monotonic() > deadline:
            return points
        time.sleep(0.2)


def test_first_run_shows_the_whole_product(dev, chromium):
    portal_link = dev.printed(r"/portal/start\?assertion=")
    provider_url = re.search(r"OpenID Connect provider on (http://127\.0\.0\.1:\d+)", dev.text)
    assert provider_url, dev.text
    provider_url = provider_url.group(1)
    provider = [pid for pid in dev.children() if PROVIDER_MODULE in cmdline(pid)]
    assert len(provider) == 1, dev.log()

    # The member portal, as the demo member, linking the Demo ID account.
    page = chromium.new_page()
    page.set_default_timeout(20000)
    page.goto(portal_link)
    assert page.url == f"{dev.url}/portal/connections"
    card = page.locator("#provider-demo")
    assert card.get_attribute("data-linked") == "no"
    assert "Demo ID" in card.inner_text() and "development only" in card.inner_text()
    assert f"Linking earns {LINK_POINTS} points" in card.inner_text()
    assert page.locator("#points").inner_text().startswith("Your points: 0")

    card.get_by_role("button", name="Link Demo ID").click()
    page.wait_for_url(f"{provider_url}/oauth2/authorize*")
    assert "Demo ID" in page.locator("header").inner_text()
    page.get_by_role("button", name="dana").click()  # the demo person, one click
    page.wait_for_url(f"{dev.url}/portal/connections")
    assert page.locator("#notice").inner_text() == "Your Demo ID account is linked."
    assert card.get_attribute("data-linked") == "yes"
    assert "Linked as dana" in card.inner_text()
    assert page.locator("#points").inner_text().startswith(f"Your points: {LINK_POINTS}")

    card.get_by_role("button", name="Unlink").click()
    page.wait_for_selector("#notice")
    assert page.locator("#notice").inner_text() == "The account was unlinked."
    assert card.get_attribute("data-linked") == "no"
    assert "already paid" in card.inner_text()  # linking again pays nothing more
    page.goto(f"{dev.url}/portal/done")
    assert page.locator("h1").inner_text() == "All set"
    page.close()

    # The tour: a share the demo rule pays, a rule created as a marketer, a review it pays.
    shared = dev.run(dev.printed(r"webhook send .*social\.shared\.json"))
    assert shared.returncode == 0 and shared.stdout.startswith("202"), shared
    created = dev.run(dev.printed(r"curl .*-X POST .*/api/v1/rules"))
    assert created.returncode == 0, created.stderr
    rule = json.loads(created.stdout)
    assert rule["status"] == "active" and rule["name"] == "Five-star reviews", rule
    reviewed = dev.run(dev.printed(r"webhook send .*review\.published\.json"))
    assert reviewed.returncode == 0 and reviewed.stdout.startswith("202"), reviewed
    assert balance(dev, LINK_POINTS + SHARE_POINTS + REVIEW_POINTS) == 85
    ledger = json.loads(dev.run(dev.printed(r"/ledger$")).stdout)
    assert sorted(entry["points"] for entry in ledger["items"]) == [10, 25, 50], ledger

    # The console: the printed admin login (shown this once), and Demo ID's "dana" as the
    # seeded approver through single sign-on.
    console_url = dev.printed(r"Marketer console: ").split(": ", 1)[1]
    login = re.search(r"admin +admin@demo\.invalid +password: (\S+) +\(shown this once\)", dev.text)
    assert login, dev.text
    page = chromium.new_page()
    page.set_default_timeout(20000)
    page.goto(console_url)
    page.get_by_label("Email").fill("admin@demo.invalid")
    page.get_by_label("Password").fill(login.group(1))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(console_url)
    page.goto(f"{console_url}rules")
    row = page.locator("tr", has_text="Five-star reviews")
    assert row.locator(".points-week").inner_text() == str(REVIEW_POINTS)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with Demo ID").click()
    page.wait_for_url(f"{provider_url}/oauth2/authorize*")
    page.get_by_role("button", name="dana").click()
    page.wait_for_url(console_url)
    assert "dana@demo.invalid approver" in page.locator("header").inner_text()
    page.close()

    # Ctrl-C: the server and the Demo ID provider it started both end.
    dev.stop()
    assert dev.process.returncode is not None
    assert wait_until_gone(provider[0]), f"Demo ID provider {provider[0]} outlived dev"


def test_demo_provider_ends_even_when_dev_is_killed(dev):
    children = dev.children()
    provider = [pid for pid in children if PROVIDER_MODULE in cmdline(pid)]
    assert len(provider) == 1, dev.log()
    dev.process.kill()  # no chance to clean up
    dev.process.wait()
    try:
        assert wait_until_gone(provider[0]), f"Demo ID provider {provider[0]} outlived dev"
    finally:
        end_servers(children)


def test_second_run_keeps_the_demo_and_prints_a_fresh_link(tmp_path):
    first = Dev(tmp_path)
    first_key = (tmp_path / "instance" / "marketer-api-key").read_text()
    first_link = first.printed(r"/portal/start\?assertion=")
    first.stop()
    second = Dev(tmp_path)
    try:
        assert (tmp_path / "instance" / "marketer-api-key").read_text() == first_key
        link = second.printed(r"/portal/start\?assertion=")
        assert link != first_link
        opened = requests.get(link, allow_redirects=False, timeout=10)
        assert opened.status_code == 303 and opened.headers["Location"] == "/portal/connections"
        again = requests.get(link, allow_redirects=False, timeout=10)
        assert again.status_code == 401 and "already used" in again.text
        fresh = re.search(r"a fresh one: (.+ portal-link --url \S+)\):", second.text).group(1)
        made = second.run(fresh)
        assert made.returncode == 0, made.stderr
        assert (
            requests.get(made.stdout.strip(), allow_redirects=False, timeout=10).status_code == 303
        )
        listed = second.run(f"{Path(sys.executable).parent}/loyalty-social rule list")
        assert listed.returncode == 0, listed.stderr
        assert len(listed.stdout.strip().splitlines()) == 2, listed.stdout  # seeded once
        # console passwords are printed on the first run only (kept only as hashes)
        assert "password: " in first.text and "password: " not in second.text
        assert "password shown on the first run" in second.text
    finally:
        second.stop()
