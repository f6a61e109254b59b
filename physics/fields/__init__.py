"""Random and structured fields: Gaussian random fields and media
(:mod:`~sciml.physics.fields.random_fields`), low-frequency cosine fields and obstacle masks
for the pressure-Poisson systems of the learned solvers."""
