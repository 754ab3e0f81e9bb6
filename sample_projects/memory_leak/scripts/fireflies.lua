-- fireflies.lua: 60 fireflies wandering around. It makes garbage every
-- frame (a table per firefly) but keeps none of it: its heap goes up and
-- down as the collector runs, and stays level.

local COUNT, W, H = 60, 120, 80

ecs.component("Firefly", { phase = 0.0 })

if not ecs.persist.spawned then
  ecs.persist.spawned = true
  for i = 1, COUNT do
    ecs.spawn({
      Name = "firefly-" .. i,
      Position = { x = ecs.random_range(0, W), y = ecs.random_range(0, H) },
      Velocity = { x = ecs.random_range(-8, 8), y = ecs.random_range(-8, 8) },
      Shape = { kind = "circle", size = 1.5 },
      Color = { r = 0.9, g = 0.95, b = 0.4 },
      Firefly = { phase = ecs.random_range(0, 6.28) },
    })
  end
end

ecs.system("wander", { "Position", "Velocity", "Firefly", "Color" }, function(id, pos, vel, fly, color, dt)
  fly.phase = fly.phase + dt * 3
  -- Garbage on purpose: a fresh table every frame, dropped at once.
  local turn = { x = math.cos(fly.phase) * 6, y = math.sin(fly.phase * 0.7) * 6 }
  vel.x = vel.x + turn.x * dt
  vel.y = vel.y + turn.y * dt
  pos.x = (pos.x + vel.x * dt) % W
  pos.y = (pos.y + vel.y * dt) % H
  color.g = 0.75 + 0.2 * math.sin(fly.phase)
end)
