-- A colony of ants: Ant components hold their velocities.
local swarm = require("swarm")

local HOME = { x = 100, y = 190 }
ecs.component("Ant", { vx = 0, vy = 0 })
swarm.spawn("Ant", 600, HOME, { r = 0.85, g = 0.35, b = 0.25, a = 1 })

-- The heavy system. It declares what it touches: it writes its own
-- Ant (in the query, not under reads) and only reads Position, so it may
-- run at the same time as the other swarms' `think`.
ecs.batch_system("think", { "Position", "Ant" }, function(view, dt)
  swarm.steer(view, "Ant", HOME, swarm.tune)
end, { reads = { "Position" } })
