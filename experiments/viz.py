"""Live exploration of the market model in the browser (Mesa's SolaraViz).

Start it with ``make viz`` or ``solara run experiments/viz.py`` and open the address it
prints. Sliders set the population, the mechanism, the incentive regime and the main market
parameters (changing one resets the model); Play steps rounds. Plots: welfare against the
planner's optimum, efficiency, the clearing price, volume, participation, data provision
and model accuracy.
"""

from __future__ import annotations

import mesa
from mesa.visualization import Slider, SolaraViz, make_plot_component

import mechanisms
from sim.config import INCENTIVE_REGIMES, SimConfig
from sim.model import ROUND_COLUMNS, MarketModel

#: The per-round figures the page plots (model reporters of :class:`LiveMarket`).
MEASURES = (
    "welfare", "optimal_welfare", "efficiency", "price", "volume", "corporations_active",
    "solvers_active", "data_share", "model_accuracy",
)  # fmt: skip


class LiveMarket(MarketModel):
    """:class:`sim.MarketModel` with keyword parameters for the page's sliders.

    Runs without a round limit (the page steps it) and reports each round's figures as
    Mesa model variables, which the page's plots read.
    """

    def __init__(
        self,
        n_corporations: int = 40,
        n_solvers: int = 10,
        mechanism: str = "dutch",
        regime: str = "intent_market",
        competitor_premium: float = 2.0,
        revenue_share: float = 0.1,
        seed: int = 0,
    ) -> None:
        config = SimConfig.from_dict(
            {
                "seed": int(seed),
                "rounds": 1_000_000,
                "market": {
                    "n_corporations": int(n_corporations),
                    "n_solvers": int(n_solvers),
                    "competitor_premium": float(competitor_premium),
                    "homogeneous": mechanism == "mcafee",
                },
                "mechanism": {"name": mechanism},
                "incentives": {"regime": regime, "revenue_share": float(revenue_share)},
            }
        )
        super().__init__(config)
        self.datacollector = mesa.DataCollector(
            model_reporters={m: _latest(m) for m in MEASURES}, tables={"rounds": ROUND_COLUMNS}
        )

    def step(self) -> None:
        """One round, then the page's figures."""
        super().step()
        self.datacollector.collect(self)


def _latest(column: str):
    return lambda model: model.datacollector.tables["rounds"][column][-1]


MODEL_PARAMS = {
    "n_corporations": Slider("corporations", 40, 5, 200, 5),
    "n_solvers": Slider("solvers", 10, 2, 60, 1),
    "competitor_premium": Slider("competitor premium", 2.0, 0.0, 5.0, 0.25),
    "revenue_share": Slider("revenue share", 0.1, 0.0, 0.5, 0.05),
    "seed": Slider("seed", 0, 0, 20, 1),
    "mechanism": {
        "type": "Select", "value": "dutch", "values": mechanisms.available(), "label": "mechanism",
    },
    "regime": {
        "type": "Select", "value": "intent_market", "values": list(INCENTIVE_REGIMES),
        "label": "incentive regime",
    },
}  # fmt: skip

COMPONENTS = [
    make_plot_component({"welfare": "#0072B2", "optimal_welfare": "#E69F00"}),
    make_plot_component("efficiency"),
    make_plot_component("price"),
    make_plot_component("volume"),
    make_plot_component({"corporations_active": "#0072B2", "solvers_active": "#CC79A7"}),
    make_plot_component({"data_share": "#009E73", "model_accuracy": "#D55E00"}),
]

page = SolaraViz(
    LiveMarket(), components=COMPONENTS, model_params=MODEL_PARAMS, name="intentlab market"
)
