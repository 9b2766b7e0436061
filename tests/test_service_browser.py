"""The web page in real Chromium (Debian's /usr/bin/chromium, driven by Playwright): a prompt, three live
rounds (lint failure, simulation mismatch, pass), and the final verified code."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.service_support import GOOD, PROMPT, ServeProcess, three_rounds
from tests.support.scripted_openai import ScriptedOpenAIServer

pytestmark = [pytest.mark.simulator]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One server for the module; the last test kills it on purpose."""
    with ScriptedOpenAIServer(three_rounds, chunk_delay_s=0.002) as model, \
            ServeProcess(model.spec(), tmp_path_factory.mktemp("browser") / "jobs.sqlite3") as srv:
        yield srv


@pytest.fixture()
def browser_page(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium package is required (scripts/bootstrap.sh installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def test_page_shows_each_round_live_and_the_verified_code(browser_page, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page.goto(server.url + "/")
    page.get_by_test_id("backend").filter(has_text="scripted").wait_for()
    page.get_by_test_id("examples").locator("button").first.wait_for()
    assert page.get_by_test_id("examples").locator("button").count() >= 3
    page.get_by_test_id("prompt").fill(PROMPT)
    page.locator("#rounds").fill("4")
    page.locator("#samples").fill("1")
    page.get_by_test_id("run").click()
    # Round 1: lint fails, the diagnostic points at its line.
    page.get_by_test_id("round").first.wait_for()
    page.get_by_test_id("final").wait_for(state="visible", timeout=90_000)
    page.screenshot(path=str(shots / "final.png"), full_page=True)
    rounds = page.get_by_test_id("round")
    assert rounds.count() == 3
    r1, r2, r3 = rounds.nth(0), rounds.nth(1), rounds.nth(2)
    diag = r1.get_by_test_id("diagnostics").first
    assert "line 9" in diag.inner_text() and "enable" in diag.inner_text()
    assert r1.locator(".mark-error").count() >= 1          # the line is marked in the code
    assert "✗" in r1.get_by_test_id("stages").inner_text()
    assert "Feedback sent" in r1.get_by_test_id("feedback").inner_text()
    # Round 2: simulation mismatch, with the failing-cycle table and the waveform.
    table = r2.get_by_test_id("cycles")
    assert table.locator("tbody tr").count() >= 1
    assert "count" in table.inner_text()
    wave = r2.get_by_test_id("waveform")
    assert wave.locator("svg").count() >= 1
    assert "expected" in wave.inner_text() and "got" in wave.inner_text()
    assert "4'd2" in r2.get_by_test_id("diff").inner_text()  # diff against round 1
    r2.get_by_test_id("waveform").screenshot(path=str(shots / "waveform.png"))
    # Round 3 passes; the final code is the verified design, with a PASS banner.
    assert "PASS" in r3.inner_text()
    assert page.get_by_test_id("banner").inner_text().startswith("PASS")
    final = page.get_by_test_id("final-code").inner_text()
    assert "count <= count + 1'b1" in final and final.count("endmodule") == 1
    assert GOOD.splitlines()[0].split("(")[0] in final
    assert page.get_by_test_id("final").get_by_text("Download").count() == 1
    assert (shots / "final.png").stat().st_size > 10_000


def test_verify_tab_and_a_clear_message_when_the_backend_is_gone(browser_page, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto(server.url + "/")
    page.get_by_test_id("backend").filter(has_text="scripted").wait_for()
    # The verify tab: paste Verilog, no suite -> lint and synthesis only, and the banner says so.
    page.get_by_role("button", name="Verify", exact=True).first.click()
    page.get_by_test_id("verify-src").fill(GOOD.replace("else if (en)", "else if (enable)"))
    page.get_by_test_id("verify-run").click()
    page.get_by_test_id("verify-banner").wait_for()
    assert "undeclared" in page.get_by_test_id("verify-banner").inner_text()
    assert "line 9" in page.get_by_test_id("verify-out").get_by_test_id("diagnostics").inner_text()
    page.get_by_test_id("verify-src").fill(GOOD)
    page.get_by_test_id("verify-run").click()
    page.get_by_test_id("verify-banner").filter(has_text="not functionally verified").wait_for()
    page.get_by_role("button", name="Generate", exact=True).first.click()
    server.kill()
    page.get_by_test_id("prompt").fill(PROMPT)
    page.get_by_test_id("run").click()
    notice = page.get_by_test_id("notice")
    notice.wait_for(state="visible")
    assert "unreachable" in notice.inner_text()
    page.get_by_test_id("backend").filter(has_text="unreachable").wait_for()
    page.screenshot(path=str(tmp_path / "unreachable.png"))
