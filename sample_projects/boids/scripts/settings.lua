-- Tunables shared by the boids scripts. Edit them and watch the flock change.
return {
  count = 2000,          -- boids spawned at load
  width = 400,           -- the world wraps around at these bounds
  height = 250,
  view_radius = 8,       -- how far a boid sees its neighbours
  separation_radius = 3, -- how close is too close
  max_speed = 30,
  min_speed = 10,
  weights = { cohesion = 0.6, alignment = 1.2, separation = 2.5 },
}
