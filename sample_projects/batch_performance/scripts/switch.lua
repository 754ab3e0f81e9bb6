-- switch.lua: the switchboard. Once a frame it reads Config › Mode › way
-- and, when it changed, moves every particle's tag over to the new way.
--
-- Why tags and not an `if way ~= 1 then return end` at the top of each
-- system? A per-entity system is called once for every entity its query
-- matches, whether or not it then does anything: 20,000 calls that return
-- at once still cost about 0.7 ms a frame here, more than the whole Lua
-- batch way. A batch system that returns at once is cheap in Lua, but in
-- Python its 20,000-row arrays are still moved in and out. Taking the tag
-- away makes the query match nothing, and a system with no matches costs
-- next to nothing.
local settings = require("settings")

local CONFIG
for id in ecs.query({ "Mode" }) do CONFIG = id end

-- The way whose tag the particles carry. Kept in ecs.persist so that
-- saving this script (a hot reload) does not forget it.
ecs.persist.applied = ecs.persist.applied or ecs.get(CONFIG, "Mode").way

ecs.system("switch", function(dt)
  local way = ecs.get(CONFIG, "Mode").way
  local applied = ecs.persist.applied
  if way == applied or way == ecs.persist.refused then return end
  local new_tag = settings.ways[way]
  if not new_tag then
    -- Remember the refusal so the console gets one line, not one a frame.
    ecs.persist.refused = way
    print(("Mode.way = %s is not a way: use 1, 2 or 3; way %d goes on"):format(tostring(way), applied))
    return
  end
  ecs.persist.refused = nil
  local old_tag = settings.ways[applied]
  local moved = 0
  -- Removing and adding components inside a query loop is allowed: the
  -- changes apply when the loop ends, so the loop sees a stable world.
  for id in ecs.query({ old_tag }) do
    ecs.remove(id, old_tag)
    ecs.set(id, new_tag, {})
    moved = moved + 1
  end
  ecs.persist.applied = way
  print(("way %d: the %s moves %d particles from now on"):format(way, settings.labels[way], moved))
end)
