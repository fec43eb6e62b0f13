"""Studies: one registered plug-in per ``study.kind``, each in its own module.

Public surface::

    studies.available()                       # registered kinds
    study = studies.get("intent_vs_yuma")     # a Study: kind, Config, tables, figure, sizes
    config = studies.load({"kind": ..., ...}) # a validated ``study`` block
    studies.execute(base, config, directory)  # run, save, return the summary
    studies.save(directory, tables, config, base)
    studies.read(directory, kind)             # the tables of a saved study

``docs/extending.md`` shows how to add one.
"""

from experiments.studies import (
    adversaries,
    calibration,
    detection,
    fhe_overhead,
    intent_vs_yuma,
    learning,
    mechanism_comparison,
    sensitivity,
    solver_entry,
)
from experiments.studies.base import (
    Study,
    Tables,
    available,
    config_record,
    execute,
    get,
    load,
    read,
    save,
)

__all__ = [
    "Study",
    "Tables",
    "adversaries",
    "available",
    "calibration",
    "config_record",
    "detection",
    "execute",
    "fhe_overhead",
    "get",
    "intent_vs_yuma",
    "learning",
    "load",
    "mechanism_comparison",
    "read",
    "save",
    "sensitivity",
    "solver_entry",
]
