"""Which verification design catches which cheater, and what the uncaught ones take.

For each seed the study runs the same population (adversary shares from the config's
``agents.adversaries``) once per verification design, every other setting equal, and
reports per design and adversary kind the cheating trades, detections, detection rate,
slashed tokens and value extracted (see ``docs/incentives.md``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import sim
from experiments.figures import PAGE_WIDTH, PALETTE, _save, interval, seeds
from experiments.studies.base import Study, Tables
from sim.config import SimConfig, VerificationConfig, between, one_of, param
from sim.results import rounded

_OFF = {"quality_proof": False, "evaluation_proof": False, "audit_rate": 0.0,
        "identity_check": False, "bid_screen": False}  # fmt: skip

#: Named verification designs (settings of ``incentives.verification``).
DESIGNS: dict[str, dict[str, Any]] = {
    "none": _OFF,
    "zk_proofs": {**_OFF, "quality_proof": True, "evaluation_proof": True},
    "audits": {**_OFF, "audit_rate": 0.3},
    "identity_check": {**_OFF, "identity_check": True},
    "bid_screen": {**_OFF, "bid_screen": True},
    "all": {"quality_proof": True, "evaluation_proof": True, "audit_rate": 0.3,
            "identity_check": True, "bid_screen": True},
}  # fmt: skip


def _designs(value: tuple[str, ...]) -> str | None:
    if value and set(value) <= set(DESIGNS) and len(set(value)) == len(value):
        return None
    return f"must be distinct names; allowed: {', '.join(DESIGNS)}"


@dataclass(frozen=True)
class AdversaryStudyConfig:
    """The ``study`` block of ``experiment=adversaries``.

    Attributes:
        kind: always ``adversaries``.
        designs: verification designs to compare (names in :data:`DESIGNS`).
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
    """

    kind: str = param("adversaries", one_of("adversaries"))
    designs: tuple[str, ...] = param(tuple(DESIGNS), _designs)
    seeds: int = param(3, between(1))


class Adversaries(Study):
    """Which verification design catches which cheater, and what the uncaught ones extract.

    Table ``adversaries``: one row per run, round and adversary kind, with ``design`` and
    ``seed`` columns.
    """

    kind = "adversaries"
    Config = AdversaryStudyConfig
    tables = ("adversaries.parquet",)
    small = ("study.seeds=2", "rounds=8", "market.n_corporations=30", "market.n_solvers=8")
    tiny = ("study.seeds=1", "study.designs=[none,all]")

    def run(self, base: SimConfig, config: AdversaryStudyConfig, progress: bool = False) -> Tables:
        """Run every design for every seed."""
        frames = []
        jobs = [(base.seed + s, d) for s in range(config.seeds) for d in config.designs]
        for seed, design in tqdm(jobs, desc="runs", unit="run", disable=not progress):
            incentives = dataclasses.replace(
                base.incentives, verification=VerificationConfig(**DESIGNS[design])
            )
            result = sim.run(dataclasses.replace(base, seed=seed, incentives=incentives))
            frames.append(result.adversaries.assign(design=design, seed=seed))
        return {"adversaries": pd.concat(frames, ignore_index=True)}

    def plot(self, tables: Tables, path: Path) -> Path:
        """Per design: detection rate, value extracted and misflagged trades per kind.

        The misflagged panel includes honest agents (their false positives).
        """
        table = tables["adversaries"]
        per_run = table.groupby(["design", "adversary", "seed"], sort=False)[
            ["attempts", "detected", "misflagged", "extracted"]
        ].sum()
        per_run["rate"] = per_run["detected"] / per_run["attempts"].where(per_run["attempts"] > 0)
        designs = list(dict.fromkeys(table["design"]))
        kinds = list(dict.fromkeys(table["adversary"]))  # honest first, then the adversaries
        cheats = [kind for kind in kinds if kind != "honest"]
        fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 2.9), layout="constrained")
        for ax, (column, title, ceiling, shown) in zip(
            axes,
            [("rate", "detection rate\n(detected / cheating)", 1.0, cheats),
             ("extracted", "value extracted\nper run (money)", None, cheats),
             ("misflagged", "misflagged trades per run\n(rejected, not for own cheating)",
              None, kinds)],
            strict=True,
        ):  # fmt: skip
            width = 0.8 / len(shown)
            for k, kind in enumerate(shown):
                stats = (
                    per_run.xs(kind, level="adversary")[column]
                    .groupby(level="design")
                    .agg(["mean", "sem", "count"])
                    .reindex(designs)
                )
                low, high = interval(stats, floor=0.0, ceiling=ceiling)
                x = np.arange(len(designs)) + (k - (len(shown) - 1) / 2) * width
                color = PALETTE[kinds.index(kind) % len(PALETTE)]
                ax.bar(x, stats["mean"], width, yerr=[stats["mean"] - low, high - stats["mean"]],
                       color=color, label=kind, capsize=2)  # fmt: skip
            ax.set_xticks(np.arange(len(designs)), designs, rotation=30, ha="right")
            ax.set_title(title, fontsize="small")
            ax.set_xlabel("verification design")
            ax.grid(axis="y", alpha=0.3)
        axes[0].set_ylim(0, 1.05)
        title = f"mean and 95% t interval over {seeds(table['seed'].nunique())}"
        fig.legend(*axes[-1].get_legend_handles_labels(), loc="outside lower center",
                   ncols=len(kinds), frameon=False, title=title)  # fmt: skip
        return _save(fig, Path(path))

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Per design and adversary kind (and ``honest``): totals per run, averaged over seeds.

        ``misflagged`` counts trades a check rejected for something the agent did not do
        (honest agents' false positives; e.g. a lazy solver's low bid the bid screen flags).
        """
        per_run = (
            tables["adversaries"]
            .groupby(["design", "adversary", "seed"], sort=False)[
                ["attempts", "detected", "misflagged", "slashed", "extracted"]
            ]
            .sum()
        )
        out = per_run.groupby(["design", "adversary"], sort=False).mean()
        out["detection_rate"] = out["detected"] / out["attempts"].where(out["attempts"] > 0)
        return rounded(out)
