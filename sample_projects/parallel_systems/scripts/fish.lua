-- A school of fish: Fish components hold their velocities.
local swarm = require("swarm")

local HOME = { x = 100, y = 70 }
ecs.component("Fish", { vx = 0, vy = 0 })
swarm.spawn("Fish", 600, HOME, { r = 0.30, g = 0.60, b = 1.00, a = 1 })

-- The heavy system. It declares what it touches: it writes its own
-- Fish (in the query, not under reads) and only reads Position, so it may
-- run at the same time as the other swarms' `think`.
ecs.batch_system("think", { "Position", "Fish" }, function(view, dt)
  swarm.steer(view, "Fish", HOME, swarm.tune)
end, { reads = { "Position" } })
