-- garden.lua: a flower whose look and motion come from the constants and
-- the function below. Edit them while the project runs and save (Ctrl+S in
-- the Scripts panel, or any editor): the new code runs at once and the
-- flower goes on turning from where it was, because the state it needs
-- lives in ecs.persist, which a reload keeps.

local palette = require("palette")   -- scripts/palette.lua: edit it too

-- Try: PETALS = 24, SPIN = -0.5, PETAL_SHAPE = "triangle"
local PETALS = 12         -- how many petals
local RADIUS = 14         -- how far they sit from the heart
local SPIN = 0.15         -- turns per second (negative: the other way)
local PETAL_SHAPE = "circle"
local PETAL_SIZE = 5

-- How far out a petal at `angle` reaches, times RADIUS, at time t.
-- Try: return 1 + 0.5 * math.sin(3 * angle)     (three lobes)
-- Try: return 1 + 0.3 * math.sin(4 * angle + 3 * t)
local function reach(angle, t)
  return 1 + 0.12 * math.sin(6 * angle + 2 * t)
end

local CX, CY = 50, 30     -- where the flower stands

ecs.component("Petal", { index = 0 })

-- What must survive a reload goes in ecs.persist. Locals start over with
-- each version; the entities the script spawned stay in the world.
ecs.persist.turned = ecs.persist.turned or 0   -- radians turned so far
ecs.persist.petals = ecs.persist.petals or {}  -- petal ids, in order

local function blend(a, b, k)
  return { r = a.r + (b.r - a.r) * k, g = a.g + (b.g - a.g) * k, b = a.b + (b.b - a.b) * k }
end

-- Make the world match the constants: on the first load this spawns every
-- petal; after an edit it spawns or despawns the difference and restyles
-- the rest. Spawning them all again would double the flower.
local function sync()
  local petals = ecs.persist.petals
  for i = #petals + 1, PETALS do
    petals[i] = ecs.spawn({
      Name = "petal-" .. i,
      Position = { x = CX, y = CY },
      Rotation = { angle = 0 },
      Petal = { index = i },
    })
  end
  for i = #petals, PETALS + 1, -1 do
    ecs.despawn(petals[i])
    petals[i] = nil
  end
  for i, id in ipairs(petals) do
    ecs.set(id, "Shape", { kind = PETAL_SHAPE, size = PETAL_SIZE })
    ecs.set(id, "Color", blend(palette.inner, palette.outer, (i - 1) / math.max(PETALS - 1, 1)))
  end
  if not ecs.persist.heart then
    ecs.persist.heart = ecs.spawn({ Name = "heart", Position = { x = CX, y = CY } })
  end
  ecs.set(ecs.persist.heart, "Shape", { kind = "circle", size = RADIUS * 0.8 })
  ecs.set(ecs.persist.heart, "Color", palette.heart)
end
sync()

ecs.system("turn", function(dt)
  ecs.persist.turned = ecs.persist.turned + SPIN * 2 * math.pi * dt
end)

ecs.system("bloom", { "Position", "Rotation", "Petal" }, function(id, pos, rot, petal, dt)
  local angle = ecs.persist.turned + 2 * math.pi * (petal.index - 1) / PETALS
  local r = RADIUS * reach(angle, ecs.time())
  pos.x = CX + math.cos(angle) * r
  pos.y = CY + math.sin(angle) * r
  rot.angle = angle
end)

-- Lifecycle: on_unload runs in the old version just before it is replaced;
-- on_reload runs in the new one, instead of on_load, with ecs.persist.
function on_unload()
  print(("garden: unloading after %.2f turns"):format(ecs.persist.turned / (2 * math.pi)))
end

function on_reload(persist)
  print(("garden: reloaded with %d petals, still at %.2f turns"):format(#persist.petals, persist.turned / (2 * math.pi)))
end
