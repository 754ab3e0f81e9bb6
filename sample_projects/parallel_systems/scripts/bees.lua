-- A swarm of bees: Bee components hold their velocities.
local swarm = require("swarm")

local HOME = { x = 300, y = 190 }
ecs.component("Bee", { vx = 0, vy = 0 })
swarm.spawn("Bee", 600, HOME, { r = 1.00, g = 0.80, b = 0.20, a = 1 })

-- The heavy system, like the other swarms' `think`, but it lists nothing
-- under reads. The README shows what that costs, and the one-line fix.
ecs.batch_system("think", { "Position", "Bee" }, function(view, dt)
  swarm.steer(view, "Bee", HOME, swarm.tune)
end, { writes = {} })
