"""The live SolaraViz page: its model reports what the page plots, and the page serves."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def test_page_serves(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    solara = str(Path(sys.executable).with_name("solara"))
    server = subprocess.Popen(
        [solara, "run", str(ROOT / "experiments" / "viz.py"), "--port", str(port), "--no-open",
         "--host", "127.0.0.1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    html = reply.read().decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no page"
                time.sleep(1)
        assert reply.status == 200 and "solara" in html.lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
