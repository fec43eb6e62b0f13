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


def save_study(directory, base, study, tables: dict, figure: str, plot):
    """Write a study's result directory: complete only once ``DONE`` exists.

    Args:
        directory: the output directory.
        base: the run's :class:`sim.SimConfig`.
        study: the study config; with ``base`` it is saved as ``config.yaml``.
        tables: ``{name: DataFrame}``, each written as ``<name>.parquet``.
        figure: the figure's file stem, written in every format of
            :data:`experiments.figures.FORMATS`.
        plot: draws the figure to the path it is given.

    Returns:
        The directory.
    """
    from pathlib import Path

    import yaml

    from experiments.figures import FORMATS
    from sim.results import write_complete

    record = config_record(base, study)
    files = {f"{name}.parquet": _parquet(frame) for name, frame in tables.items()}
    files["config.yaml"] = lambda p: Path(p).write_text(yaml.safe_dump(record, sort_keys=False))
    return write_complete(
        directory, files, figures=lambda d: [plot(d / f"{figure}.{x}") for x in FORMATS]
    )


def _parquet(frame):
    return lambda path: frame.to_parquet(path, index=False)
