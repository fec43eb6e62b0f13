"""Market participants: corporations, solvers, validators, intents and strategies.

Agents are thin Mesa agents; the model keeps the heavy state in arrays.
"""

from agents.intent import Intent, compatibility
from agents.market_agents import Corporation, MarketAgent, Solver, Validator
from agents.strategies import (
    STRATEGIES,
    Exp3,
    Feedback,
    FillRate,
    Gradient,
    Hedge,
    Markup,
    Shading,
    Strategy,
    Truthful,
)

__all__ = [
    "STRATEGIES",
    "Corporation",
    "Exp3",
    "Feedback",
    "FillRate",
    "Gradient",
    "Hedge",
    "Intent",
    "MarketAgent",
    "Markup",
    "Shading",
    "Solver",
    "Strategy",
    "Truthful",
    "Validator",
    "compatibility",
]
