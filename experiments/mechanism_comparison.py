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

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import mechanisms
from sim.config import ConfigError, SimConfig, between, build_config, one_of, param
from sim.model import MarketModel

FAMILIES = ("intent", "homogeneous")


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
    corporations: tuple[int, ...] = param((20, 100, 300), lambda v: _sizes(v))
    solvers: tuple[int, ...] = param((6, 30, 60), lambda v: _sizes(v))
    families: tuple[str, ...] = param(FAMILIES, _family_list)
    seeds: int = param(3, between(1))
    markets: int = param(4, between(1))

    def __post_init__(self) -> None:
        if len(self.corporations) != len(self.solvers):
            raise ConfigError("study.solvers", "needs one entry per entry of study.corporations")
        for name, params in self.mechanism_params.items():
            try:
                mechanisms.get(name, **params)
            except ValueError as exc:
                raise ConfigError(f"study.mechanism_params.{name}", str(exc)) from None

    @property
    def sizes(self) -> list[tuple[int, int]]:
        """``(corporations, solvers)`` pairs."""
        return list(zip(self.corporations, self.solvers, strict=True))


def load_study(data: dict[str, Any]) -> ComparisonConfig:
    """Validate the ``study`` block of a config.

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    return build_config(ComparisonConfig, data, "study.")


def run(base: SimConfig, study: ComparisonConfig, progress: bool = False) -> pd.DataFrame:
    """Run the comparison and return one row per (market, mechanism).

    Args:
        base: the simulation config the markets are drawn from (sizes and family replaced).
        study: what to compare.
        progress: show a progress bar over markets.
    """
    mechs = {
        name: mechanisms.get(name, **study.mechanism_params.get(name, {}))
        for name in study.mechanisms
    }
    jobs = [
        (family, n, m, base.seed + s)
        for family in study.families
        for n, m in study.sizes
        for s in range(study.seeds)
    ]
    rows = []
    bar = tqdm(total=len(jobs) * study.markets, desc="markets", unit="market", disable=not progress)
    for family, n, m, seed in jobs:
        market_cfg = dataclasses.replace(
            base.market, n_corporations=n, n_solvers=m, homogeneous=family == "homogeneous"
        )
        model = MarketModel(dataclasses.replace(base, seed=seed, market=market_cfg))
        for index in range(study.markets):
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
    return pd.DataFrame(rows)


def save(table: pd.DataFrame, base: SimConfig, study: ComparisonConfig, directory: Path) -> Path:
    """Write ``comparison.parquet``, ``comparison.png``/``.pdf``, ``config.yaml``, ``DONE``."""
    from experiments import save_study
    from experiments.figures import plot_comparison

    return save_study(directory, base, study, {"comparison": table}, "comparison",
                      lambda p: plot_comparison(table, p))  # fmt: skip


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean figures per family, size and mechanism."""
    ok = table[table["supported"]]
    cols = ["efficiency", "volume", "seller_revenue", "protocol_surplus"]
    return ok.groupby(["family", "corporations", "solvers", "mechanism"])[cols].mean().round(3)


def execute(
    base: SimConfig, study: ComparisonConfig, directory: Path, progress: bool = False
) -> pd.DataFrame:
    """Run the study, save it to ``directory`` and return its summary."""
    table = run(base, study, progress=progress)
    save(table, base, study, directory)
    return summary(table)
