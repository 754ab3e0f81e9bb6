-- 100,000 particles drifting in a box, bouncing off its walls, their
-- colour showing their speed. One batch system moves them all: the arrays
-- are the world's own storage, so a frame costs a few milliseconds even at
-- this size. Change COUNT to try other sizes (press ⟲ Reset after saving).
local COUNT = 100000
local W, H = 1000, 600

for i = 1, COUNT do
  local angle = ecs.random() * 2 * math.pi
  local speed = 5 + ecs.random() * 40
  ecs.spawn({
    Position = { x = ecs.random() * W, y = ecs.random() * H },
    Velocity = { x = math.cos(angle) * speed, y = math.sin(angle) * speed },
    Shape = { kind = "circle", size = 1.5 },
    Color = { r = 0.3, g = 0.6, b = 1.0, a = 1.0 },
  })
end
print(("spawned %d particles"):format(ecs.count({ "Position" })))

ecs.batch_system("drift", { "Position", "Velocity" }, function(view, dt)
  local px, py, vx, vy = view.Position.x, view.Position.y, view.Velocity.x, view.Velocity.y
  for i = 0, view.n - 1 do
    local x, y = px[i] + vx[i] * dt, py[i] + vy[i] * dt
    if x < 0 or x > W then vx[i] = -vx[i]; x = px[i] end
    if y < 0 or y > H then vy[i] = -vy[i]; y = py[i] end
    px[i], py[i] = x, y
  end
end)

-- Colour by speed, a second batch system over other columns: slow is blue,
-- fast is orange. Set a particle's Velocity in the Inspector and watch its
-- colour follow.
ecs.batch_system("tint", { "Velocity", "Color" }, function(view, dt)
  local vx, vy = view.Velocity.x, view.Velocity.y
  local r, g, b = view.Color.r, view.Color.g, view.Color.b
  for i = 0, view.n - 1 do
    local t = math.min(math.sqrt(vx[i] * vx[i] + vy[i] * vy[i]) / 45, 1)
    r[i], g[i], b[i] = 0.3 + 0.7 * t, 0.6, 1.0 - 0.7 * t
  end
end)
