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

import pandas as pd
from tqdm.auto import tqdm

import sim
from sim.config import SimConfig, VerificationConfig, between, build_config, one_of, param

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


def load_study(data: dict[str, Any]) -> AdversaryStudyConfig:
    """Validate the ``study`` block of a config.

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    return build_config(AdversaryStudyConfig, data, "study.")


def run(base: SimConfig, study: AdversaryStudyConfig, progress: bool = False) -> pd.DataFrame:
    """Run every design for every seed; one row per run, round and adversary kind."""
    frames = []
    jobs = [(base.seed + s, d) for s in range(study.seeds) for d in study.designs]
    for seed, design in tqdm(jobs, desc="runs", unit="run", disable=not progress):
        incentives = dataclasses.replace(
            base.incentives, verification=VerificationConfig(**DESIGNS[design])
        )
        result = sim.run(dataclasses.replace(base, seed=seed, incentives=incentives))
        frames.append(result.adversaries.assign(design=design, seed=seed))
    return pd.concat(frames, ignore_index=True)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per design and adversary kind: totals per run, averaged over seeds."""
    per_run = table.groupby(["design", "adversary", "seed"], sort=False)[
        ["attempts", "detected", "slashed", "extracted"]
    ].sum()
    out = per_run.groupby(["design", "adversary"], sort=False).mean()
    out["detection_rate"] = out["detected"] / out["attempts"].where(out["attempts"] > 0)
    return out.round(3)


def save(table: pd.DataFrame, base: SimConfig, study: AdversaryStudyConfig, directory: Path):
    """Write ``adversaries.parquet``, ``adversaries.png``/``.pdf``, ``config.yaml``, ``DONE``."""
    from experiments import save_study
    from experiments.figures import plot_adversaries

    return save_study(directory, base, study, {"adversaries": table}, "adversaries",
                      lambda p: plot_adversaries(table, p))  # fmt: skip


def execute(
    base: SimConfig, study: AdversaryStudyConfig, directory: Path, progress: bool = False
) -> pd.DataFrame:
    """Run the study, save it to ``directory`` and return its summary."""
    table = run(base, study, progress=progress)
    save(table, base, study, directory)
    return summary(table)
