"""Seeded synthetic tabular data for corporations in different industries.

All industries share one feature space and one labelling rule (a logistic model with common
weights), so data from one industry helps models for another; each industry shifts the
feature distribution and the labelling bias (distribution shift), and each corporation's
labels are flipped with probability ``(1 - quality) / 2`` (quality 1: clean labels,
quality 0: pure noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Features and binary labels.

    Attributes:
        x: ``(rows, features)`` float32 features.
        y: ``(rows,)`` labels in ``{0, 1}`` (float32).
        industry: the industry the rows come from.
        quality: the label quality they were drawn with.
    """

    x: np.ndarray
    y: np.ndarray
    industry: int
    quality: float

    @property
    def rows(self) -> int:
        """Number of rows."""
        return self.x.shape[0]


class IndustryData:
    """A generator of industry datasets over a shared feature space.

    Args:
        n_features: features per row, ``>= 1``.
        n_industries: industries, ``>= 1``.
        shift: standard deviation of each industry's feature-mean offset and labelling bias.
        sharpness: scale of the logits (higher: classes separate more cleanly).
        seed: seeds the shared weights and the industries' offsets.

    Raises:
        ValueError: on a non-positive count or a negative ``shift``/``sharpness``.
    """

    def __init__(
        self,
        n_features: int = 8,
        n_industries: int = 5,
        shift: float = 1.0,
        sharpness: float = 3.0,
        seed: int = 0,
    ) -> None:
        if n_features < 1 or n_industries < 1:
            raise ValueError("IndustryData needs n_features >= 1 and n_industries >= 1")
        if shift < 0 or sharpness < 0:
            raise ValueError("IndustryData needs shift >= 0 and sharpness >= 0")
        rng = np.random.default_rng(seed)
        self.n_features = n_features
        self.n_industries = n_industries
        self.sharpness = sharpness
        weights = rng.normal(size=n_features)
        self.weights = weights / np.linalg.norm(weights)
        self.offsets = rng.normal(scale=shift, size=(n_industries, n_features))
        self.biases = rng.normal(scale=shift, size=n_industries)

    def sample(self, industry: int, rows: int, quality: float, rng: np.random.Generator) -> Dataset:
        """Draw ``rows`` labelled rows of one industry with label quality ``quality``.

        Args:
            industry: industry index in ``[0, n_industries)``.
            rows: number of rows, ``>= 1``.
            quality: label quality in ``[0, 1]``.
            rng: the caller's generator (the simulation's), so draws are reproducible.

        Raises:
            ValueError: on an unknown industry, ``rows < 1`` or quality outside ``[0, 1]``.
        """
        if not 0 <= industry < self.n_industries:
            raise ValueError(f"industry must be in [0, {self.n_industries}), got {industry}")
        if rows < 1:
            raise ValueError(f"rows must be >= 1, got {rows}")
        if not 0 <= quality <= 1:
            raise ValueError(f"quality must be in [0, 1], got {quality}")
        x = rng.normal(size=(rows, self.n_features)) + self.offsets[industry]
        centred = (x - self.offsets[industry]) @ self.weights
        logits = self.sharpness * (centred + self.biases[industry])
        y = (rng.random(rows) < 1 / (1 + np.exp(-logits))).astype(np.float32)
        flip = rng.random(rows) < (1 - quality) / 2
        y = np.where(flip, 1 - y, y).astype(np.float32)
        return Dataset(x.astype(np.float32), y, industry, float(quality))
