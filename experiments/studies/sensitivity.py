"""Sensitivity of a study's conclusion to the assumptions it rests on.

A study that states a conclusion declares the assumptions it rests on
(:attr:`~experiments.studies.base.Study.assumptions`: config keys and the values worth
trying) and its verdict (:meth:`~experiments.studies.base.Study.verdict`: the signed
quantities, per seed, whose sign is the conclusion). This study re-runs that study

* **one at a time**: each assumption over its values, every other setting at the base;
* **crossed**: two assumptions over the grid of their values;

and reports each verdict quantity's mean over seeds and its 95% t interval at every point,
with its sign where the interval excludes zero: where the conclusion holds, where it is not
distinguishable from zero, and where it reverses.

A key may join several config keys with ``+`` to set them to the same value (for instance
``market.sharing_cost_low+market.sharing_cost_high``: every corporation's sharing cost); a
key ``study.<name>`` sets the tested study's own block (e.g. ``study.rounds`` of
``learning``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from experiments.figures import PAGE_WIDTH, PALETTE, _save, t_scale
from experiments.studies import base as studies
from experiments.studies.base import Study, Tables, run_jobs
from mechanisms.base import is_number
from sim.config import ConfigError, SimConfig, between, one_of, param, plain, with_values
from sim.results import rounded

#: The point every sweep is compared with (no assumption changed).
BASE = "base"


def _sweeps(value: tuple) -> str | None:
    for item in value:
        if not (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str)):
            return "must be a list of [key, [values]] pairs"
        key, values = item
        if not isinstance(values, list | tuple) or not values:
            return f"{key}: must have a non-empty list of values"
        if not all(is_number(v) for v in values):
            return f"{key}: values must be numbers"
    return None


def _crossed(value: tuple) -> str | None:
    if value and len(value) != 2:
        return "must name exactly two keys (or none)"
    return _sweeps(value)


def _settings(value: tuple) -> str | None:
    ok = all(isinstance(i, list | tuple) and len(i) == 2 and isinstance(i[0], str) for i in value)
    return None if ok else "must be a list of [key, value] pairs"


@dataclass(frozen=True)
class SensitivityConfig:
    """The ``study`` block of ``experiment=sensitivity``.

    Attributes:
        kind: always ``sensitivity``.
        of: the study whose conclusion is tested (one that declares a verdict).
        study: ``[key, value]`` pairs of that study's own block (e.g. ``[[seeds, 5]]``), over
            its :attr:`~experiments.studies.base.Study.verdict_runs`; ``workers`` is 1.
        one_at_a_time: ``[key, [values]]`` pairs, each key swept alone; empty: the study's
            declared assumptions.
        crossed: two ``[key, [values]]`` pairs, swept on their grid; empty: none.
        crossed_at: ``[key, value]`` pairs set at every crossed point (the slice of the other
            assumptions the grid is drawn at).
        workers: processes; 0: one per core.
    """

    kind: str = param("sensitivity", one_of("sensitivity"))
    of: str = param("intent_vs_yuma")
    study: tuple[Any, ...] = param((), _settings)
    one_at_a_time: tuple[Any, ...] = param((), _sweeps)
    crossed: tuple[Any, ...] = param((), _crossed)
    crossed_at: tuple[Any, ...] = param((), _settings)
    workers: int = param(0, between(0))

    def __post_init__(self) -> None:
        kinds = [k for k in studies.available() if studies.get(k).assumptions]
        if self.of not in kinds:
            raise ConfigError("study.of", f"{self.of!r} not allowed, allowed: {', '.join(kinds)}")
        self.inner()

    def inner(self) -> Any:
        """The tested study's config (one worker: the points run in parallel instead).

        Raises:
            ConfigError: naming ``study.study.<key>``.
        """
        tested = studies.get(self.of)
        data = {**tested.verdict_runs, **dict(self.study), "kind": self.of}
        if "workers" in {f.name for f in dataclasses.fields(tested.Config)}:
            data["workers"] = 1
        try:
            inner = studies.load(data)
        except ConfigError as exc:
            key = exc.key.removeprefix("study.")
            raise ConfigError(f"study.study.{key}", exc.reason) from None
        tested.check_verdict(inner)
        return inner

    def sweeps(self) -> dict[str, tuple]:
        """The one-at-a-time sweeps: the given ones, else the study's assumptions."""
        given = dict(self.one_at_a_time) or studies.get(self.of).assumptions
        return {key: tuple(values) for key, values in given.items()}


def _point(config: SimConfig, inner: Any, values: dict[str, float], where: str) -> tuple:
    """The run and study configs with each (possibly ``+``-joined) key set.

    Keys starting with ``study.`` set the tested study's own block; the others the run's
    config. Errors name ``where`` (``study.one_at_a_time``, ``study.crossed``), then the key.
    """
    flat = {k: v for key, v in values.items() for k in key.split("+")}
    own = {k.removeprefix("study."): v for k, v in flat.items() if k.startswith("study.")}
    rest = {k: v for k, v in flat.items() if not k.startswith("study.")}
    try:
        if own:
            inner = studies.load({**plain(dataclasses.asdict(inner)), **own})
            studies.get(inner.kind).check_verdict(inner)
        return with_values(config, rest), inner
    except ConfigError as exc:
        raise ConfigError(where, f"{exc.key}: {exc.reason}") from None


def _verdict(job: tuple[SimConfig, Any, dict]) -> pd.DataFrame:
    """Run the study at one point and return its verdict rows, labelled with the point."""
    config, inner, labels = job
    study = studies.get(inner.kind)
    return study.verdict(study.run(config, inner)).assign(**labels)


class Sensitivity(Study):
    """Where a study's conclusion holds, and where it reverses.

    Table ``sensitivity``: one row per design (``base``, ``one_at_a_time``, ``crossed``),
    point (``x_key``, ``x``, ``y_key``, ``y``), verdict quantity and seed, with its
    ``value``.
    """

    kind = "sensitivity"
    Config = SensitivityConfig
    tables = ("sensitivity.parquet",)
    small = ("study.study=[[seeds,3]]", "rounds=12", "market.n_corporations=30",
             "market.n_solvers=8")  # fmt: skip
    tiny = ("study.study=[[seeds,2]]",
            "study.one_at_a_time=[[incentives.token_price,[0.0]]]",
            "study.crossed=[[agents.grace_rounds,[0,1]],[incentives.yuma.open_data_prob,[0.5]]]",
            "study.workers=1")  # fmt: skip

    def run(self, base: SimConfig, config: SensitivityConfig, progress: bool = False) -> Tables:
        """Every point's verdict; every point's config is checked before any runs."""
        done = run_jobs(_verdict, self.points(base, config), config.workers, progress,
                        desc="points")  # fmt: skip
        return {"sensitivity": pd.concat(done, ignore_index=True)}

    def check(self, base: SimConfig, config: SensitivityConfig) -> None:
        """Build every point's configs (:meth:`points`), so a bad one fails before work."""
        self.points(base, config)

    def points(self, base: SimConfig, config: SensitivityConfig) -> list[tuple]:
        """``(run config, study config, labels)`` of every point, base first.

        Raises:
            ConfigError: naming ``study.one_at_a_time`` or ``study.crossed`` and the key.
        """
        inner = config.inner()
        jobs = [(base, inner, _labels(BASE))]
        for key, values in config.sweeps().items():
            for x in values:
                point = _point(base, inner, {key: x}, "study.one_at_a_time")
                jobs.append((*point, _labels("one_at_a_time", key, x)))
        if config.crossed:
            (xk, xs), (yk, ys) = config.crossed
            for x in xs:
                for y in ys:
                    values = {**dict(config.crossed_at), xk: x, yk: y}
                    point = _point(base, inner, values, "study.crossed")
                    jobs.append((*point, _labels("crossed", xk, x, yk, y)))
        return jobs

    def plot(self, tables: Tables, path: Path) -> Path:
        """One-at-a-time panels (mean, 95% t band, the base as a dotted line), then heatmaps.

        Heatmap cells are coloured by the mean (diverging at zero) and hatched where the
        95% interval includes zero.
        """
        stats = summarize(tables["sensitivity"])
        quantities = list(dict.fromkeys(stats["quantity"]))
        single = stats[stats["design"] == "one_at_a_time"]
        keys = list(dict.fromkeys(single["x_key"]))
        crossed = stats[stats["design"] == "crossed"]
        cols = 4 if len(keys) % 4 == 0 else 5
        per_quantity = -(-len(keys) // cols)  # rows: each quantity starts a row
        heat_rows = -(-len(quantities) // cols) if len(crossed) else 0
        rows = max(1, per_quantity * len(quantities) + heat_rows)
        fig, axes = plt.subplots(rows, cols, figsize=(PAGE_WIDTH, 1.15 * rows + 0.5),
                                 squeeze=False, layout="constrained")  # fmt: skip
        used = set()
        at_base = stats[stats["design"] == BASE].set_index("quantity")
        for q, quantity in enumerate(quantities):
            color = PALETTE[q % len(PALETTE)]
            for k, key in enumerate(keys):
                where = divmod(q * per_quantity * cols + k, cols)
                used.add(where)
                ax = axes[where]
                line = single[(single["x_key"] == key) & (single["quantity"] == quantity)]
                ax.plot(line["x"], line["mean"], "-o", ms=2.5, color=color, lw=1)
                ax.fill_between(line["x"], line["mean"] - line["ci"],
                                line["mean"] + line["ci"], color=color, alpha=0.2)  # fmt: skip
                ax.axhline(0, color="0.2", lw=0.6)
                if quantity in at_base.index:
                    ax.axhline(at_base.loc[quantity, "mean"], color="0.5", lw=0.6, ls=":")
                ax.set_title(_short(key), fontsize="x-small")
                if k % cols == 0:
                    ax.set_ylabel(quantity.split(":")[0], fontsize="x-small")
                ax.tick_params(labelsize="x-small")
                ax.grid(alpha=0.3)
        for q, quantity in enumerate(quantities if len(crossed) else ()):
            where = divmod(per_quantity * len(quantities) * cols + q, cols)
            used.add(where)
            cells = crossed[crossed["quantity"] == quantity]
            _heatmap(axes[where], cells, quantity, ylabel=q % cols == 0)
        flat = (axes[i, j] for i in range(rows) for j in range(cols) if (i, j) not in used)
        for ax in flat:
            ax.set_visible(False)
        seeds = int(stats["seeds"].max())
        compared = quantities[0].split(": ", 1)[-1] if quantities else ""
        fig.suptitle(f"Sensitivity of {compared}: mean and 95% t interval over {seeds} seeds "
                     "per point\n(dotted: the base point; hatched: interval includes 0)",
                     fontsize="small")  # fmt: skip
        return _save(fig, Path(path))

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Per point: each quantity's mean, 95% t half-width and sign; and any reversal.

        ``sign`` is +1 or -1 where the interval excludes zero, 0 where it does not;
        ``reverses`` marks points where a quantity's sign is opposite to the base point's.
        """
        stats = summarize(tables["sensitivity"])
        point = ["design", "x_key", "x", "y_key", "y"]
        rows = []
        for where, group in stats.groupby(point, sort=False, dropna=False):
            design, x_key, x, y_key, y = where
            row = {"design": design, "point": _where(x_key, x, y_key, y)}
            for quantity in group.itertuples():
                name = quantity.quantity.split(":")[0]
                row |= {f"{name}": quantity.mean, f"{name} ci": quantity.ci,
                        f"{name} sign": quantity.sign}  # fmt: skip
            row["reverses"] = bool(group["reverses"].any())
            rows.append(row)
        wide = pd.DataFrame(rows).set_index("point")
        return rounded(wide)


def _labels(design: str, x_key: str = "", x: float = np.nan, y_key: str = "",
            y: float = np.nan) -> dict:  # fmt: skip
    return {"design": design, "x_key": x_key, "x": float(x), "y_key": y_key, "y": float(y)}


def _where(x_key: str, x: float, y_key: str, y: float) -> str:
    """``key=value`` for each swept key of a point, or ``base``."""
    parts = [f"{_short(k)}={v:g}" for k, v in ((x_key, x), (y_key, y)) if k]
    return ", ".join(parts) or BASE


def _short(key: str) -> str:
    """A key without its top-level section (``yuma.open_data_prob``, ``fee_high``)."""
    return "+".join(part.split(".", 1)[-1] if part.count(".") > 1 else part.rsplit(".", 1)[-1]
                    for part in key.split("+"))  # fmt: skip


def _heatmap(ax, cells: pd.DataFrame, quantity: str, ylabel: bool) -> None:
    grid = cells.pivot_table(index="y", columns="x", values="mean")
    covers = cells.pivot_table(index="y", columns="x", values="sign") == 0
    limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    norm = TwoSlopeNorm(0.0, -limit, limit)
    ax.imshow(grid.to_numpy(), cmap="RdBu", norm=norm, origin="lower", aspect="auto")
    for (i, j), value in np.ndenumerate(grid.to_numpy()):
        text = f"{value:.0f}" if abs(value) >= 10 else f"{rounded(value, 2):.2f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=5)
        if covers.to_numpy()[i, j]:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                       lw=0, color="0.4"))  # fmt: skip
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns], fontsize="x-small")
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index], fontsize="x-small")
    ax.set_xlabel(_short(cells["x_key"].iloc[0]).replace("+", "+\n"), fontsize="x-small")
    if ylabel:
        ax.set_ylabel(_short(cells["y_key"].iloc[0]).replace("+", "+\n"), fontsize="x-small")
    ax.set_title(f"{quantity.split(':')[0]}, crossed", fontsize="x-small")


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95% t half-width (``ci``), seeds and ``sign`` per point and quantity.

    ``sign`` is +1 or -1 where the interval excludes zero, 0 where it does not;
    ``reverses`` marks points whose sign is opposite to the base point's (nonzero) sign.
    """
    keys = ["design", "x_key", "x", "y_key", "y", "quantity"]
    grouped = table.groupby(keys, sort=False, dropna=False)["value"]
    out = grouped.agg(mean="mean", sem="sem", seeds="count").reset_index()
    out["ci"] = t_scale(out["seeds"]) * out.pop("sem").fillna(0)
    out["sign"] = np.where(out["mean"] - out["ci"] > 0, 1, np.where(out["mean"] + out["ci"] < 0,
                                                                     -1, 0))  # fmt: skip
    base = out[out["design"] == BASE].set_index("quantity")["sign"]
    reference = out["quantity"].map(base).fillna(0)
    out["reverses"] = (out["sign"] != 0) & (reference != 0) & (out["sign"] == -reference)
    return out


__all__ = ["Sensitivity", "SensitivityConfig", "summarize"]
