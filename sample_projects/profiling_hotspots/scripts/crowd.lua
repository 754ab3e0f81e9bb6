-- crowd.lua: 400 walkers heading for targets that move around the arena.
-- Cheap: one per-entity system that reads and writes live components.

local COUNT = 400
local W, H = 160, 100

ecs.component("Walker", { tx = 0.0, ty = 0.0, speed = 10.0 })

if not ecs.persist.spawned then
  ecs.persist.spawned = true
  for i = 1, COUNT do
    ecs.spawn({
      Name = "walker-" .. i,
      Position = { x = ecs.random_range(0, W), y = ecs.random_range(0, H) },
      Velocity = { x = 0, y = 0 },
      Shape = { kind = "circle", size = 1.6 },
      Color = { r = 0.45, g = 0.75, b = 0.95 },
      Walker = { tx = ecs.random_range(0, W), ty = ecs.random_range(0, H), speed = ecs.random_range(6, 14) },
    })
  end
end

-- Steer towards the target; pick a new one on arrival.
ecs.system("seek", { "Position", "Velocity", "Walker" }, function(id, pos, vel, w, dt)
  local dx, dy = w.tx - pos.x, w.ty - pos.y
  local d = math.sqrt(dx * dx + dy * dy)
  if d < 2 then
    w.tx, w.ty = ecs.random_range(0, W), ecs.random_range(0, H)
    ecs.emit("arrived", { id = id })
  else
    vel.x = vel.x + (dx / d * w.speed - vel.x) * 0.1
    vel.y = vel.y + (dy / d * w.speed - vel.y) * 0.1
  end
end)

ecs.system("move", { "Position", "Velocity" }, function(id, pos, vel, dt)
  pos.x = pos.x + vel.x * dt
  pos.y = pos.y + vel.y * dt
end)
