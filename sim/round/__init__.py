"""A round's stages and the typed records they pass on (:mod:`sim.round.records`)."""
