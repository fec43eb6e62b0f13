"""Live exploration of the market model in the browser (Mesa's SolaraViz components).

Start it with ``make viz`` or ``solara run experiments/viz.py`` and open the address it
prints. Every browser session (tab) runs its own model. Sliders and menus set the population,
the mechanism, the incentive regime and the main market parameters, each showing its current
value; every change rebuilds the model with the new values at step 0. Reset rebuilds it with
the same values, Play and Step run rounds. The title names the running model's mechanism,
incentive regime and step; a card lists the latest round's figures; plots show welfare against
the planner's optimum, efficiency, the clearing price, volume, participation, data provision
and model accuracy.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import mesa
import solara
from mesa.visualization import Slider, make_plot_component
from mesa.visualization.solara_viz import ComponentsView
from mesa.visualization.utils import force_update, update_counter

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
        #: The keyword arguments this model was built with (what the page's controls show).
        self.parameters: dict[str, Any] = {
            "n_corporations": int(n_corporations),
            "n_solvers": int(n_solvers),
            "mechanism": mechanism,
            "regime": regime,
            "competitor_premium": float(competitor_premium),
            "revenue_share": float(revenue_share),
            "seed": int(seed),
        }
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

#: The parameters a fresh session's model starts with (the controls' initial values).
DEFAULTS: dict[str, Any] = {
    name: spec.value if isinstance(spec, Slider) else spec["value"]
    for name, spec in MODEL_PARAMS.items()
}

#: Seconds between rounds while Play runs.
PLAY_INTERVAL_S = 0.1


def _format(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def title(model: LiveMarket) -> str:
    """The page's title for a model: what it runs and how far it has run.

    Args:
        model: The session's model.

    Returns:
        The name of the page, the model's mechanism and incentive regime, and its step.
    """
    config = model.config
    return (
        f"intentlab market · {config.mechanism.name} · {config.incentives.regime}"
        f" · step {model.steps}"
    )


@solara.component
def Title(model: LiveMarket):
    """The app bar's title, renewed after every step."""
    update_counter.get()
    solara.AppBarTitle(title(model))


@solara.component
def LatestRound(model: LiveMarket):
    """The step count and the latest round's figures, one line a measure."""
    update_counter.get()
    frame = model.datacollector.get_model_vars_dataframe()
    solara.Text(f"Step: {model.steps}")
    if frame.empty:
        solara.Text("No round yet: press Step or Play.")
        return
    latest = frame.iloc[-1]
    with solara.Column(gap="0px"):
        for measure in MEASURES:
            solara.Text(f"{measure}: {_format(latest[measure])}")


@solara.component
def ParameterControls(values: dict[str, Any], on_change):
    """One slider or menu a model parameter, each labelled with its current value.

    Args:
        values: The current parameter values, by parameter name.
        on_change: Called with a parameter's name and its new value.
    """
    for name, spec in MODEL_PARAMS.items():
        value = values[name]
        if isinstance(spec, Slider):
            slider = solara.SliderFloat if spec.is_float_slider else solara.SliderInt
            slider(
                f"{spec.label}: {_format(value)}",
                value=value,
                min=spec.min,
                max=spec.max,
                step=spec.step,
                on_value=partial(on_change, name),
            )
        else:
            solara.Select(
                spec["label"], values=spec["values"], value=value, on_value=partial(on_change, name)
            )


@solara.component
def Page():
    """The page of one browser session: its own model, rebuilt by every control change.

    The session's model is its only state the page shows: the controls display the
    parameters the running model was built with, so what they show and what is plotted
    cannot disagree.
    """
    model = solara.use_reactive(solara.use_memo(lambda: LiveMarket(**DEFAULTS), []))
    playing = solara.use_reactive(False)
    error = solara.use_reactive(None)

    def rebuild(parameters: dict[str, Any]) -> None:
        playing.set(False)
        try:
            fresh = LiveMarket(**parameters)
        except Exception as exc:  # shown on the page; the running model stays
            error.set(f"cannot build the model: {exc}")
            return
        error.set(None)
        model.set(fresh)

    def change(name: str, value: Any) -> None:
        if value != model.value.parameters[name]:
            rebuild({**model.value.parameters, name: value})

    def advance() -> None:
        try:
            model.value.step()
        except Exception as exc:  # shown on the page
            playing.set(False)
            error.set(f"round {model.value.steps} failed: {exc}")
        force_update()

    def play() -> None:
        while playing.value:
            time.sleep(PLAY_INTERVAL_S)
            if playing.value:
                advance()

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    Title(model.value)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            with solara.Row(justify="space-between"):
                solara.Button(
                    "Reset", color="primary", on_click=lambda: rebuild(model.value.parameters)
                )
                solara.Button(
                    "❚❚" if playing.value else "▶",
                    color="primary",
                    on_click=lambda: playing.set(not playing.value),
                )
                solara.Button("Step", color="primary", on_click=advance, disabled=playing.value)
            if error.value:
                solara.Error(error.value)
        with solara.Card("Model parameters"):
            solara.Text("Changing one rebuilds the model at step 0.")
            ParameterControls(model.value.parameters, change)
        with solara.Card("Latest round"):
            LatestRound(model.value)
    ComponentsView(COMPONENTS, model.value)
