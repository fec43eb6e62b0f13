"""The edge of intentlab: the Hydra entry point, the command line and figures.

Hydra stops here; everything below takes plain typed arguments.
"""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def config_record(base, study=None) -> dict:
    """What a result directory's ``config.yaml`` holds: the run's config and its study.

    Args:
        base: the :class:`sim.SimConfig`.
        study: the study config (a frozen dataclass), if the run is a study.
    """
    import dataclasses

    from sim.config import plain

    record = base.to_dict()
    if study is not None:
        record["study"] = plain(dataclasses.asdict(study))
    return record
