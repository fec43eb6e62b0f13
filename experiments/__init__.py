"""The edge of intentlab: the Hydra entry point, the command line, figures and studies.

Hydra stops here; everything below takes plain typed arguments.
"""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
