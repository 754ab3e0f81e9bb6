-- meadow.lua: what exists. Components, the creatures, and the food that
-- grows. What they *do* is in life.lua.
--
-- 1. An entity is only an id. What it is, and which systems act on it,
--    comes from the components it has right now.

-- Data components: fields with defaults. A whole default (meals = 0)
-- makes an integer field; a default with a fraction (0.5) a number field.
-- (In Lua 1.0 is the same number as 1, so it would make an integer field.)
ecs.component("Creature", { speed = 8.5 })                -- wanders about
ecs.component("Stomach", { fullness = 0.5, rate = 0.1, meals = 0 })
ecs.component("Energy", { level = 0.5, naps = 0 })

-- Tag components: no fields at all. Having one *is* the information.
-- Systems find tagged entities with a query, or skip them with `without`.
ecs.component("Hungry", {})
ecs.component("Sleeping", {})
ecs.component("Food", {})

-- The meadow. Each Lua script has its own Lua state, so life.lua, which
-- keeps the creatures inside it, has its own copy of W and H.
local W, H = 120, 80
local MAX_FOOD = 8
local GROW_EVERY = 90                                     -- frames (1.5 s)

local function spawn_critter(i)
  local angle = ecs.random_range(0, 2 * math.pi)          -- deterministic: seeded by world.seed
  local speed = ecs.random_range(6, 12)
  ecs.spawn({
    Name = "critter-" .. i,
    Position = { x = ecs.random_range(10, W - 10), y = ecs.random_range(10, H - 10) },
    Velocity = { x = math.cos(angle) * speed, y = math.sin(angle) * speed },
    Shape = { kind = "circle", size = 3.5 },
    Color = { r = 0.45, g = 0.85, b = 0.45 },
    Creature = { speed = speed },
    -- Some start half empty or half awake, so things happen early.
    Stomach = { fullness = ecs.random_range(0.1, 1.0), rate = ecs.random_range(0.06, 0.12) },
    Energy = { level = ecs.random_range(0.05, 1.0) },
  })
end

-- Food is an entity too: a Position, a Shape, a Color and the Food tag.
local function grow_food()
  ecs.spawn({
    Name = "food",
    Position = { x = ecs.random_range(6, W - 6), y = ecs.random_range(6, H - 6) },
    Shape = { kind = "rect", size = 1.8 },
    Color = { r = 0.95, g = 0.85, b = 0.30 },
    Food = {},
  })
end

-- Saving this file in the Scripts panel reloads it and runs this top level
-- again. ecs.persist survives the reload, so the meadow is filled only once.
if not ecs.persist.filled then
  for i = 1, 10 do spawn_critter(i) end
  for _ = 1, 5 do grow_food() end
  ecs.persist.filled = true
end

-- Once per frame: top the food up. ecs.count({ "Food" }) counts whatever
-- has the Food tag, so food you add to an entity by hand counts too.
ecs.system("grow", function(dt)
  if ecs.frame() > 0 and ecs.frame() % GROW_EVERY == 0 and ecs.count({ "Food" }) < MAX_FOOD then
    grow_food()   -- a spawn inside a system: the entity appears when "grow" ends
  end
end)

-- Every 5 s: a census. Each number is a query, so each is a question about
-- components: "has Creature and Hungry but not Sleeping", "has Creature but
-- neither Hungry nor Sleeping"... A sleeper may be hungry too; it is
-- counted once, as sleeping, the way the scene colours it.
ecs.system("census", function(dt)
  if ecs.frame() % 300 ~= 0 then return end
  local meals = 0
  for _, stomach in ecs.query({ "Stomach" }) do meals = meals + stomach.meals end
  print(("t = %.0f s: %d creatures: %d hungry, %d sleeping, %d content; %d food; %d meals eaten")
    :format(ecs.time(), ecs.count({ "Creature" }),
      ecs.count({ "Creature", "Hungry" }, { without = { "Sleeping" } }),
      ecs.count({ "Creature", "Sleeping" }),
      ecs.count({ "Creature" }, { without = { "Hungry", "Sleeping" } }),
      ecs.count({ "Food" }), meals))
end)

function on_load()
  print(("the meadow: %d creatures, %d food"):format(ecs.count({ "Creature" }), ecs.count({ "Food" })))
end
