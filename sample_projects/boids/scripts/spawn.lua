-- Spawns the flock: every boid is an entity with built-in components the
-- scene view draws (Position, Rotation, Shape, Color) plus a Velocity.
local settings = require("settings")

ecs.component("Boid", { flock = 0 })

local palette = {
  { r = 0.36, g = 0.72, b = 1.00 },
  { r = 1.00, g = 0.62, b = 0.26 },
  { r = 0.55, g = 0.90, b = 0.45 },
}

-- Saving settings.lua reloads this script too (it loads the module): the
-- flock already there is kept, so a new weight shows at once on the same
-- boids. The count takes effect at Reset, when the world starts empty.
if ecs.count({ "Boid" }) > 0 then
  return
end

for i = 1, settings.count do
  local angle = ecs.random() * 2 * math.pi
  local speed = settings.min_speed + ecs.random() * (settings.max_speed - settings.min_speed)
  local flock = (i % #palette)
  local c = palette[flock + 1]
  ecs.spawn({
    Name = "boid-" .. i,
    Boid = { flock = flock },
    Position = { x = ecs.random() * settings.width, y = ecs.random() * settings.height },
    Velocity = { x = math.cos(angle) * speed, y = math.sin(angle) * speed },
    Rotation = { angle = angle },
    Shape = { kind = "triangle", size = 2.5 },
    Color = { r = c.r, g = c.g, b = c.b },
  })
end

print(("spawned %d boids in a %dx%d world"):format(ecs.count({ "Boid" }), settings.width, settings.height))
