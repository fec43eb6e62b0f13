import dataclasses
from pathlib import Path

from sim import SimConfig

ROOT = Path(__file__).resolve().parents[1]


def _keys(cls, prefix=""):
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(f.type) or isinstance(f.default_factory, type):
            sub = f.default_factory
            if dataclasses.is_dataclass(sub):
                yield from _keys(sub, f"{prefix}{f.name}.")
                continue
        yield prefix, f.name


def test_every_config_key_is_documented():
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [
        f"{prefix}{name}"
        for prefix, name in _keys(SimConfig)
        if name not in ("name", "params")
        and f"`{name}`" not in text
        and f"`{prefix.rstrip('.').rpartition('.')[2]}.{name}`" not in text
    ]
    assert not missing


def test_readme_starts_with_the_two_commands():
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:20])
    assert "make run" in head and "make test" in head
