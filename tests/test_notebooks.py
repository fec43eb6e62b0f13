"""Every notebook in notebooks/ runs top to bottom and shows the figures it plots."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

#: Figures each notebook shows (``image/png`` outputs): every ``plt.show()`` and every
#: ``IPython.display.Image`` of a figure file.
FIGURES = {
    "quickstart": 2,  # plot_rounds as an Image; the utility histogram
    "mechanism_comparison": 1,  # efficiency per mechanism
    "calibration": 1,  # measured against fitted (plot_calibration as an Image)
}


def test_the_required_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "mechanism_comparison", "calibration"} <= names
    assert names == set(FIGURES), "declare each notebook's figure count in FIGURES"


def figures(book) -> int:
    """The ``image/png`` outputs of an executed notebook."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    book = nbformat.read(path, as_version=4)
    # The kernel gets Jupyter's own matplotlib backend (inline), not an MPLBACKEND=Agg of
    # the environment (which the intentlab command sets for itself): a figure that a user
    # would not see in Jupyter is missing from the outputs here too.
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)  # fmt: skip
    errors = [
        output
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    assert all(cell.get("execution_count") for cell in book.cells if cell.cell_type == "code")
    assert figures(book) == FIGURES[path.stem], (
        f"{path.name} shows {figures(book)} figures, expected {FIGURES[path.stem]}"
    )
    if path.stem == "mechanism_comparison":
        assert interval_units(book) == {5}  # the sweep's seeds, not seeds x rounds


def interval_units(book) -> set[int]:
    """The units behind each interval of the cell tagged ``interval`` (its ``seeds`` column).

    The mechanism-comparison notebook's intervals must stand on independent units: one
    number per seed, not one per round.
    """
    (cell,) = [c for c in book.cells if "interval" in c.get("metadata", {}).get("tags", [])]
    (text,) = [o["data"]["text/plain"] for o in cell["outputs"] if "data" in o]
    header, _, *rows = text.splitlines()  # columns; the index's name; one row a mechanism
    column = header.split().index("seeds") + 1  # + the row's label
    return {int(row.split()[column]) for row in rows}
