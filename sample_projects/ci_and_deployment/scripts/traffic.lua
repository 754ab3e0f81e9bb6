-- A ring road: 800 cars drive around it, and four signals turn red and
-- green in turn. Cars slow down for a red signal ahead of them.
local CARS, RADIUS = 800, 100
-- Extra work per car and frame, to try what a slow change does to the
-- budgets (see the README): 0 as shipped.
local DETOUR = 0

ecs.component("Car", { angle = 0, speed = 0 })
ecs.component("Signal", { angle = 0, red = false })

if not ecs.persist.built then
  ecs.persist.built = true
  for i = 1, CARS do
    local angle = i / CARS * 2 * math.pi
    ecs.spawn({
      Position = { x = math.cos(angle) * RADIUS, y = math.sin(angle) * RADIUS },
      Shape = { kind = "rect", size = 1.5 },
      Color = { r = 0.3 + ecs.random() * 0.7, g = 0.5, b = 0.9, a = 1 },
      Car = { angle = angle, speed = 0.2 + ecs.random() * 0.2 },
    })
  end
  for i = 0, 3 do
    local angle = i * math.pi / 2
    ecs.spawn({
      Position = { x = math.cos(angle) * (RADIUS + 8), y = math.sin(angle) * (RADIUS + 8) },
      Shape = { kind = "circle", size = 5 },
      Color = { r = 0.2, g = 0.9, b = 0.3, a = 1 },
      Signal = { angle = angle, red = false },
    })
  end
end

-- The signals: one turns red every two seconds, in turn.
ecs.system("signals", { "Signal", "Color" }, function(id, signal, color, dt)
  local turn = math.floor(ecs.time() / 2) % 4
  signal.red = math.abs(signal.angle - turn * math.pi / 2) < 0.01
  color.r, color.g = signal.red and 0.95 or 0.2, signal.red and 0.2 or 0.9
end)

-- Where the red signals are this frame (read by drive below).
local reds = {}
ecs.system("find_reds", function(dt)
  reds = {}
  for _, signal in ecs.query({ "Signal" }) do
    if signal.red then
      reds[#reds + 1] = signal.angle
    end
  end
end)

-- Every car moves along the ring, and waits just before a red signal.
ecs.batch_system("drive", { "Position", "Car" }, function(view, dt)
  local px, py = view.Position.x, view.Position.y
  local angle, speed = view.Car.angle, view.Car.speed
  for i = 0, view.n - 1 do
    local a = angle[i]
    local go = true
    for _, red in ipairs(reds) do
      local ahead = (red - a) % (2 * math.pi)
      if ahead > 0 and ahead < 0.05 then
        go = false
      end
    end
    for _ = 1, DETOUR do
      a = a + math.sin(a) * 1e-12
    end
    if go then
      a = (a + speed[i] * dt) % (2 * math.pi)
    end
    angle[i] = a
    px[i], py[i] = math.cos(a) * RADIUS, math.sin(a) * RADIUS
  end
end)
