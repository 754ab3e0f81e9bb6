-- spawn.lua: the Config entity and 20,000 particles.
--
-- Every particle orbits (0, 0) at the same speed along its circle, so the
-- inner ones go round faster and the three spiral arms wind up as it runs.
-- Three scripts can move them: lua_per_entity.lua, lua_batch.lua and
-- python_batch.py. They do the same arithmetic; only the way the numbers
-- reach the script differs. That difference is what this project measures.
local settings = require("settings")

-- The settings a reader changes while it runs live on one entity, so the
-- Inspector can edit them and every script, in either language, can read
-- them with ecs.get. `way` is an integer: 1, 2 or 3.
ecs.component("Mode", { way = 1 })
ecs.component("Flow", { speed = 30.0 })

-- Tags: components without fields. They carry no data; a system's query
-- names one, and only the particles that carry it are handed to it.
for _, tag in ipairs(settings.ways) do
  ecs.component(tag, {})
end

-- Spawned first, so it is the first entity in the Entities list.
ecs.spawn({
  Name = "Config",
  Mode = { way = settings.start_way },
  Flow = { speed = settings.speed },
})

local tag = settings.ways[settings.start_way]
local TWO_PI = 2 * math.pi
for i = 1, settings.count do
  -- sqrt(random) spreads the particles evenly over the disc's area
  -- instead of crowding them at the centre.
  local r = settings.inner + (settings.outer - settings.inner) * math.sqrt(ecs.random())
  local arm = i % settings.arms
  local theta = arm * TWO_PI / settings.arms + 2.2 * math.log(r / settings.inner)
    + ecs.random_range(-0.35, 0.35)
  local t = (r - settings.inner) / (settings.outer - settings.inner)
  ecs.spawn({
    Position = { x = r * math.cos(theta), y = r * math.sin(theta) },
    Velocity = { x = -settings.speed * math.sin(theta), y = settings.speed * math.cos(theta) },
    Shape = { kind = "circle", size = 1.6 },
    Color = { r = 1.0 - 0.6 * t, g = 0.55 + 0.2 * t, b = 0.3 + 0.7 * t },
    [tag] = {},
  })
end

print(("spawned %d particles; way %d (%s) moves them"):format(
  ecs.count({ "Position" }), settings.start_way, settings.labels[settings.start_way]))
