"""Grid solvers of the PDE engine: the Darcy solve on a grid and the time steppers (heat,
Burgers, Navier-Stokes vorticity), batched and differentiable in torch."""
