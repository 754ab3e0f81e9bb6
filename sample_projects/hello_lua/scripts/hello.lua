-- hello_lua: the ecs basics.
--
-- 1. Components are named bags of fields. Position, Velocity, Rotation,
--    Color, Shape and Name are built in; declare your own with defaults.
ecs.component("Bouncy", { bounces = 0, spin = 0.0 })

-- The arena: entities bounce off its walls.
local W, H = 100, 60

-- 2. Entities are ids. ecs.spawn takes a table of component name = value;
--    fields you leave out get their defaults (Color.a is 1, Bouncy.bounces 0).
local kinds = { "circle", "rect", "triangle" }
local colors = {
  { r = 0.95, g = 0.35, b = 0.35 }, { r = 0.35, g = 0.75, b = 0.95 },
  { r = 0.45, g = 0.90, b = 0.45 }, { r = 0.95, g = 0.80, b = 0.30 },
  { r = 0.75, g = 0.50, b = 0.95 }, { r = 0.95, g = 0.55, b = 0.20 },
  { r = 0.30, g = 0.90, b = 0.80 }, { r = 0.90, g = 0.90, b = 0.90 },
}
for i, color in ipairs(colors) do
  local angle = ecs.random_range(0, 2 * math.pi)   -- deterministic: seeded by world.seed
  ecs.spawn({
    Name = "ball-" .. i,
    Position = { x = ecs.random_range(10, W - 10), y = ecs.random_range(10, H - 10) },
    Velocity = { x = math.cos(angle) * 25, y = math.sin(angle) * 25 },
    Rotation = { angle = 0 },
    Shape = { kind = kinds[(i - 1) % 3 + 1], size = 4 + i % 3 },
    Color = color,
    Bouncy = { spin = ecs.random_range(-3, 3) },
  })
end

-- 3. Systems run every frame, in the order they are registered. A system
--    with a list of components is called once per matching entity with
--    *live* components: assigning a field writes the world.
ecs.system("move", { "Position", "Velocity" }, function(id, pos, vel, dt)
  pos.x = pos.x + vel.x * dt
  pos.y = pos.y + vel.y * dt
end)

ecs.system("bounce", { "Position", "Velocity", "Bouncy", "Shape" }, function(id, pos, vel, bouncy, shape, dt)
  local r = shape.size / 2
  local hit = false
  if pos.x < r and vel.x < 0 or pos.x > W - r and vel.x > 0 then vel.x = -vel.x; hit = true end
  if pos.y < r and vel.y < 0 or pos.y > H - r and vel.y > 0 then vel.y = -vel.y; hit = true end
  if hit then
    bouncy.bounces = bouncy.bounces + 1
    -- 4. Events: ecs.emit queues a message; handlers run at the start of
    --    the next frame, in both Lua and Python scripts.
    ecs.emit("bounced", { id = id, bounces = bouncy.bounces })
  end
end)

ecs.system("spin", { "Rotation", "Bouncy" }, function(id, rot, bouncy, dt)
  rot.angle = rot.angle + bouncy.spin * dt
end)

-- 5. ecs.persist keeps its contents for the whole run (and, later, across
--    hot reloads of this script).
ecs.persist.total_bounces = ecs.persist.total_bounces or 0

ecs.on("bounced", function(event)
  ecs.persist.total_bounces = ecs.persist.total_bounces + 1
  if ecs.persist.total_bounces % 10 == 0 then
    -- ecs.get returns a copy of a component; print goes to the Console.
    local name = ecs.get(event.id, "Name")
    print(("%d bounces so far; %s has bounced %d times (frame %d)")
      :format(ecs.persist.total_bounces, name, event.bounces, ecs.frame()))
  end
end)

-- 6. A system without components runs once per frame. Queries iterate
--    entities in id order; `without` excludes a component.
ecs.system("report", function(dt)
  if ecs.frame() % 600 == 0 then
    local moving = ecs.count({ "Velocity" })
    local still = 0
    for id in ecs.query({ "Position" }, { without = { "Velocity" } }) do still = still + 1 end
    print(("t = %.1f s: %d moving, %d still"):format(ecs.time(), moving, still))
  end
end)

function on_load()
  print(("hello from Lua: %d entities"):format(ecs.count({ "Position" })))
end
