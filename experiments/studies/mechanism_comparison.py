"""Every mechanism on the same seeded markets, against the planner's optimum.

For each market family (``intent``: per-pair values and intent restrictions, as in the
simulation; ``homogeneous``: identical data units, one ask per seller and one bid per buyer),
each market size and each seed, the study draws markets from :class:`sim.MarketModel`
(round 0 population, a fresh task draw per market) and clears each one with every
mechanism. A mechanism that does not support a family (McAfee on intent markets) gets a
row with ``supported = False`` and NaN figures, never a silent gap.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import mechanisms
from experiments.figures import PAGE_WIDTH, PALETTE, _band, _save, fewer_seeds, seeds
from experiments.studies.base import Study, Tables, check_mechanism_params
from sim.config import ConfigError, SimConfig, between, one_of, param
from sim.model import MarketModel
from sim.results import rounded

FAMILIES = ("intent", "homogeneous")

#: The figure's panels (column, panel title with units, the quantity's range: its band stays
#: within it).
PANELS = [
    ("efficiency", "efficiency (realized / optimal)", (None, 1.0)),
    ("seller_revenue", "seller revenue / market (money)", (0.0, None)),
    ("protocol_surplus", "protocol surplus / market (money)", (None, None)),
    ("volume", "volume / market (data units)", (0.0, None)),
]


def _mechanism_list(value: tuple[str, ...]) -> str | None:
    unknown = [v for v in value if v not in mechanisms.available()]
    if unknown or not value:
        return f"allowed: {', '.join(mechanisms.available())}"
    return None


def _sizes(value: tuple[int, ...]) -> str | None:
    return None if value and min(value) >= 1 else "must be a non-empty list of integers >= 1"


def _family_list(value: tuple[str, ...]) -> str | None:
    return None if value and set(value) <= set(FAMILIES) else f"allowed: {', '.join(FAMILIES)}"


@dataclass(frozen=True)
class ComparisonConfig:
    """The ``study`` block of ``experiment=mechanism_comparison``.

    Attributes:
        kind: always ``mechanism_comparison``.
        mechanisms: registry names to compare.
        mechanism_params: per-mechanism parameters, e.g. ``{posted_price: {price: 1.5}}``.
        corporations: market sizes, number of corporations (paired with ``solvers``).
        solvers: market sizes, number of solvers.
        families: market families (``intent``, ``homogeneous``).
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
        markets: markets drawn per family, size and seed.
    """

    kind: str = param("mechanism_comparison", one_of("mechanism_comparison"))
    mechanisms: tuple[str, ...] = param(
        ("dutch", "first_price", "vcg", "mcafee", "posted_price"), _mechanism_list
    )
    mechanism_params: dict[str, Any] = param({})
    corporations: tuple[int, ...] = param((20, 100, 300), _sizes)
    solvers: tuple[int, ...] = param((6, 30, 60), _sizes)
    families: tuple[str, ...] = param(FAMILIES, _family_list)
    seeds: int = param(3, between(1))
    markets: int = param(4, between(1))

    def __post_init__(self) -> None:
        if len(self.corporations) != len(self.solvers):
            raise ConfigError("study.solvers", "needs one entry per entry of study.corporations")
        check_mechanism_params(self.mechanism_params)

    @property
    def sizes(self) -> list[tuple[int, int]]:
        """``(corporations, solvers)`` pairs."""
        return list(zip(self.corporations, self.solvers, strict=True))


class MechanismComparison(Study):
    """How close each mechanism gets to the optimum, and who keeps the surplus, by size.

    Table ``comparison``: one row per market and mechanism.
    """

    kind = "mechanism_comparison"
    Config = ComparisonConfig
    tables = ("comparison.parquet",)
    figure = "comparison"
    small = ("study.corporations=[10,30]", "study.solvers=[3,8]", "study.seeds=2",
             "study.markets=2")  # fmt: skip
    tiny = ("study.seeds=1", "study.corporations=[8]", "study.solvers=[3]", "study.markets=1")
    verdict_runs = {"mechanisms": ("dutch", "vcg"), "families": ("intent",)}  # noqa: RUF012
    assumptions = {  # noqa: RUF012 (read-only)
        "market.fee_high": (4.0, 6.0, 10.0),
        "market.sharing_cost_high": (0.5, 1.5, 3.0),
        "market.intent.exclude_own_industry_prob": (0.0, 0.5, 1.0),
        "market.n_industries": (1, 5, 10),
    }

    def run(self, base: SimConfig, config: ComparisonConfig, progress: bool = False) -> Tables:
        """Draw the markets and clear each one with every mechanism."""
        mechs = {
            name: mechanisms.get(name, **config.mechanism_params.get(name, {}))
            for name in config.mechanisms
        }
        jobs = [
            (family, n, m, base.seed + s)
            for family in config.families
            for n, m in config.sizes
            for s in range(config.seeds)
        ]
        rows = []
        bar = tqdm(total=len(jobs) * config.markets, desc="markets", unit="market",
                   disable=not progress)  # fmt: skip
        for family, n, m, seed in jobs:
            market_cfg = dataclasses.replace(
                base.market, n_corporations=n, n_solvers=m, homogeneous=family == "homogeneous"
            )
            model = MarketModel(dataclasses.replace(base, seed=seed, market=market_cfg))
            for index in range(config.markets):
                drawn = model.draw_market()
                optimum = mechanisms.welfare.optimum(drawn.true, solver=base.welfare_solver)
                best = optimum.info["welfare"]
                for name, mech in mechs.items():
                    row = {"family": family, "corporations": n, "solvers": m, "seed": seed,
                           "market": index, "mechanism": name, "optimal_welfare": best}  # fmt: skip
                    reason = mech.unsupported(drawn.reported)
                    if reason:
                        rows.append({**row, "supported": False, "reason": reason})
                        continue
                    started = time.perf_counter()
                    out = mech.clear(drawn.reported)
                    seconds = time.perf_counter() - started
                    realized = mechanisms.welfare.value(drawn.true, out.allocation)
                    rows.append(
                        {
                            **row,
                            "supported": True,
                            "reason": "",
                            "welfare": realized,
                            "efficiency": realized / best if best > 1e-9 else np.nan,
                            "volume": out.volume,
                            "seller_revenue": float(out.seller_revenue.sum()),
                            "buyer_payment": float(out.buyer_payment.sum()),
                            "protocol_surplus": out.protocol_surplus,
                            "clear_seconds": seconds,
                        }
                    )
                bar.update()
        bar.close()
        return {"comparison": pd.DataFrame(rows)}

    def plot(self, tables: Tables, path: Path) -> Path:
        """Mechanisms side by side against market size, one line style per market family.

        Lines are means over seeds of each seed's mean over its markets, bands their 95% t
        interval over seeds (the markets of a seed share its population).
        """
        table = tables["comparison"]
        ok = table[table["supported"]]
        names = sorted(table["mechanism"].unique())
        colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
        styles = {"intent": "-", "homogeneous": "--"}
        keys = ["family", "mechanism", "corporations", "seed"]
        per_seed = ok.groupby(keys)[[c for c, _, _ in PANELS]].mean().reset_index()
        n = ok["seed"].nunique()
        fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH, 4.6), sharex=True,
                                 layout="constrained")  # fmt: skip
        for ax, (column, title, (low, high)) in zip(axes.flat, PANELS, strict=True):
            for (family, name), group in per_seed.groupby(["family", "mechanism"]):
                _band(ax, group.groupby("corporations")[column], colors[name],
                      styles.get(family, ":"), alpha=0.15, t=True, floor=low, ceiling=high,
                      full=n, marker="o", ms=3)  # fmt: skip
            ax.set(xscale="log")
            ax.set_title(title, fontsize="small")
            sizes = sorted(ok["corporations"].unique())
            ax.set_xticks(sizes, [str(v) for v in sizes])
            ax.minorticks_off()
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel("corporations (log scale)")
        handles = [plt.Line2D([], [], color=colors[n], label=n) for n in names]
        handles += [
            plt.Line2D([], [], color="0.3", ls=s, label=f"{f} markets") for f, s in styles.items()
        ]
        handles += fewer_seeds(axes.flat)
        title = f"mean and 95% t interval over {seeds(n)}"
        fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False,
                   title=title)  # fmt: skip
        return _save(fig, Path(path))

    def verdict(self, tables: Tables) -> pd.DataFrame:
        """Per seed, VCG's efficiency less the Dutch auction's on intent markets.

        The mean over sizes and markets of each market's difference: positive where a
        uniform price rationed by volume loses efficiency against the welfare-maximizing
        VCG allocation.
        """
        table = tables["comparison"]
        ok = table[table["supported"] & (table["family"] == "intent")]
        wide = ok.pivot_table(index=["seed", "corporations", "market"], columns="mechanism",
                              values="efficiency")  # fmt: skip
        gap = (wide["vcg"] - wide["dutch"]).groupby(level="seed").mean()
        quantity = "dutch loss: vcg - dutch efficiency"
        return pd.DataFrame({"quantity": quantity, "seed": gap.index, "value": gap.to_numpy()})

    def check_verdict(self, config: ComparisonConfig) -> None:
        """The verdict compares Dutch and VCG on intent markets: all three must run."""
        if not {"dutch", "vcg"} <= set(config.mechanisms) or "intent" not in config.families:
            raise ConfigError("study.study", "mechanism_comparison's verdict needs mechanisms "
                              "dutch and vcg and the intent family")  # fmt: skip

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Mean figures per family, size and mechanism."""
        table = tables["comparison"]
        ok = table[table["supported"]]
        cols = ["efficiency", "volume", "seller_revenue", "protocol_surplus"]
        return rounded(ok.groupby(["family", "corporations", "solvers", "mechanism"])[cols].mean())
