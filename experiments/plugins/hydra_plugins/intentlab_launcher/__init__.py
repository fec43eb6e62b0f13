"""Hydra's name for intentlab's local launcher (``hydra/launcher=local``).

Hydra instantiates launchers only from its ``hydra_plugins`` namespace package; this package
is on the module path once :func:`experiments.launcher.register` has run (importing
:mod:`experiments.run` runs it). The launcher itself is :mod:`experiments.launcher`.
"""

from experiments import launcher


class LocalLauncher(launcher.LocalLauncher):
    """:class:`experiments.launcher.LocalLauncher`, under the name Hydra accepts."""


__all__ = ["LocalLauncher"]
