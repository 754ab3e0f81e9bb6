-- A flock of birds: Bird components hold their velocities.
local swarm = require("swarm")

local HOME = { x = 300, y = 70 }
ecs.component("Bird", { vx = 0, vy = 0 })
swarm.spawn("Bird", 600, HOME, { r = 0.90, g = 0.90, b = 0.95, a = 1 })

-- The heavy system. It declares what it touches: it writes its own
-- Bird (in the query, not under reads) and only reads Position, so it may
-- run at the same time as the other swarms' `think`.
ecs.batch_system("think", { "Position", "Bird" }, function(view, dt)
  swarm.steer(view, "Bird", HOME, swarm.tune)
end, { reads = { "Position" } })
