"""The live SolaraViz page: its model, its server, and the page in a headless browser.

In the browser each tab runs its own model, every control change rebuilds it, and the
controls show their values.
"""

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_live_model_reports_every_plotted_measure():
    from experiments.viz import COMPONENTS, MEASURES, MODEL_PARAMS, LiveMarket

    model = LiveMarket(n_corporations=12, n_solvers=4, mechanism="vcg", regime="yuma")
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == list(MEASURES) and len(frame) == 3
    assert frame.equals(model.rounds_frame()[list(MEASURES)])
    assert len(COMPONENTS) == 6
    assert set(MODEL_PARAMS) <= set(LiveMarket.__init__.__code__.co_varnames)


def test_model_keeps_its_parameters_and_names_itself():
    from experiments.viz import DEFAULTS, MODEL_PARAMS, LiveMarket, title

    assert set(DEFAULTS) == set(MODEL_PARAMS)
    model = LiveMarket(**{**DEFAULTS, "regime": "yuma", "n_corporations": 12})
    assert model.parameters == {**DEFAULTS, "regime": "yuma", "n_corporations": 12}
    assert title(model) == "intentlab market · dutch · yuma · step 0"
    model.step()
    assert title(model) == "intentlab market · dutch · yuma · step 1"


def test_pages_rebuild_their_own_models():
    """The page's logic without a browser: two pages, controls set as the browser would."""
    import ipyvuetify as v
    import solara

    from experiments.viz import Page

    def render():
        return solara.render(solara.AppLayout(children=[Page()]), handle_error=False)[1]

    def shows(page, widget, **match):
        page.find(widget, **match).assert_single()

    first, second = render(), render()
    first.find(v.Btn, children=["Step"]).widget.click()
    shows(first, v.Html, children=["Step: 1"])
    shows(second, v.Html, children=["Step: 0"])
    first.find(v.Select, label="incentive regime").widget.v_model = "yuma"
    shows(first, v.Html, children=["Step: 0"])
    first.find(v.Btn, children=["Step"]).widget.click()
    shows(first, v.Html, children=["price: 0"])  # Yuma's open data carries no price
    first.find(v.Slider, label="corporations: 40").widget.v_model = 45
    shows(first, v.Slider, label="corporations: 45")
    shows(first, v.Html, children=["Step: 0"])
    first.find(v.Btn, children=["Step"]).widget.click()
    shows(first, v.Html, children=["corporations_active: 45"])
    shows(second, v.Html, children=["Step: 0"])


PAGE = ROOT / "experiments" / "viz.py"
WAIT_MS = 30_000  # the longest a page may take to show what a click changed


@contextlib.contextmanager
def _served(tmp_path):
    """Serve the page with ``solara run`` on a free port; yield its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    solara = str(Path(sys.executable).with_name("solara"))
    log = tmp_path / "solara.log"
    # production mode: no file watcher for hot reload, whose inotify instances a shared
    # machine can run out of ("inotify instance limit reached", exit status 3)
    with log.open("w") as out:
        server = subprocess.Popen(
            [solara, "run", str(PAGE), "--port", str(port), "--no-open", "--host", "127.0.0.1",
             "--production"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180  # a fresh venv's first start compiles its imports
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    html = reply.read().decode()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = "\n".join(log.read_text().splitlines()[-15:])
                    state = f"exit status {server.poll()}" if server.poll() is not None else (
                        "still starting after 180 s")  # fmt: skip
                    raise AssertionError(f"no page ({state}); its log ends:\n{tail}") from None
                time.sleep(1)
        assert reply.status == 200 and "solara" in html.lower()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_page_serves(tmp_path):
    with _served(tmp_path):
        pass


def _chromium() -> str:
    """The system Chromium for Playwright, or a skip saying how to install one."""
    pytest.importorskip(
        "playwright.sync_api", reason="no playwright: .venv/bin/pip install -e '.[viz]'"
    )
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(
            "no chromium: apt-get install chromium (Debian's package; Playwright drives it)"
        )
    return path


def test_page_in_a_browser(tmp_path):
    """Each tab has its own model; every control change rebuilds it; values are shown."""
    chromium = _chromium()
    from playwright.sync_api import expect, sync_playwright

    def open_tab(context, url):
        tab = context.new_page()
        tab.goto(url)
        tab.get_by_role("button", name="Step").wait_for(timeout=90_000)
        return tab

    def sidebar(tab):
        return tab.locator(".v-navigation-drawer")

    def at_step(tab, step, regime):
        # a fresh server's first round takes seconds (its solvers start), the rest far less
        title = rf"intentlab market · dutch · {regime} · step {step}$"
        expect(tab.locator(".v-toolbar__title")).to_have_text(re.compile(title), timeout=WAIT_MS)
        expect(sidebar(tab)).to_contain_text(re.compile(rf"Step: {step}(?!\d)"), timeout=WAIT_MS)

    def latest(tab, measure):
        text = sidebar(tab).inner_text()
        found = re.search(rf"^{measure}: (\S+)$", text, re.MULTILINE)
        assert found, f"no {measure} among the latest round's figures:\n{text}"
        return float(found.group(1))

    with _served(tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            first = open_tab(context, url)
            first.get_by_role("button", name="Step").click()
            first.get_by_role("button", name="Step").click()
            at_step(first, 2, "intent_market")
            assert latest(first, "price") > 0  # the intent market prices data

            # a second tab runs a model of its own, from step 0
            second = open_tab(context, url)
            at_step(second, 0, "intent_market")
            second.get_by_role("button", name="Step").click()
            at_step(second, 1, "intent_market")
            at_step(first, 2, "intent_market")

            # choosing a regime rebuilds the model at step 0; its rounds are the new regime's
            first.locator(".v-select", has_text="incentive regime").click()
            first.get_by_role("option", name="yuma", exact=True).click()
            at_step(first, 0, "yuma")
            expect(sidebar(first)).to_contain_text("No round yet", timeout=WAIT_MS)
            first.get_by_role("button", name="Step").click()
            at_step(first, 1, "yuma")
            assert latest(first, "price") == 0  # Yuma's open data carries no price

            # a slider shows its value; moving it rebuilds the model with the new value
            corporations = first.get_by_role("slider").first
            expect(sidebar(first)).to_contain_text("corporations: 40")
            corporations.focus()
            corporations.press("ArrowRight")
            expect(sidebar(first)).to_contain_text("corporations: 45", timeout=WAIT_MS)
            at_step(first, 0, "yuma")
            first.get_by_role("button", name="Step").click()
            at_step(first, 1, "yuma")
            assert latest(first, "corporations_active") == 45
            at_step(second, 1, "intent_market")
        finally:
            browser.close()
