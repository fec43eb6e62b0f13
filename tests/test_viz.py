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
    log = tmp_path / "solara.log"
    # production mode: no file watcher for hot reload, whose inotify instances a shared
    # machine can run out of ("inotify instance limit reached", exit status 3)
    with log.open("w") as out:
        server = subprocess.Popen(
            [solara, "run", str(ROOT / "experiments" / "viz.py"), "--port", str(port),
             "--no-open", "--host", "127.0.0.1", "--production"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # a fresh venv's first start compiles its imports
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
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
    finally:
        server.terminate()
        server.wait(timeout=30)
