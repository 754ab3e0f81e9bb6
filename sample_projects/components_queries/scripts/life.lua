-- life.lua: what happens. Every system here picks its entities by their
-- components, so adding or removing a component changes which systems see
-- an entity, with no other bookkeeping. The components are declared in
-- meadow.lua, which loads first.

local W, H = 120, 80
local EAT_DISTANCE = 2.0

-- Lines for the Console, printed by the "explain" system at the end of the
-- frame, after the systems that made the changes have ended.
local notes = {}

-- A label for the Console. An entity need not have a Name (none is
-- required for anything), so fall back to its id.
local function name_of(id)
  return ecs.get(id, "Name") or ("#" .. id)
end

-- 2. A per-entity system runs on every entity that has all its components.
--    Anything with a Stomach digests: creatures, or any entity you give one.
ecs.system("digest", { "Stomach" }, function(id, stomach, dt)
  stomach.fullness = math.max(0, stomach.fullness - stomach.rate * dt)
  if stomach.fullness == 0 and not ecs.has(id, "Hungry") then
    -- 3. Adding a component the entity lacks is a *structural* change.
    --    Made while a system runs, it applies when that system ends, so
    --    ecs.has(id, "Hungry") is still false on the next line. (Changing a
    --    field, or replacing a component it already has, applies at once.)
    ecs.set(id, "Hungry", {})
    if not ecs.persist.shown_hungry then
      ecs.persist.shown_hungry = true
      print(("%s got hungry; inside digest, ecs.has(id, \"Hungry\") = %s")
        :format(name_of(id), tostring(ecs.has(id, "Hungry"))))
      notes[#notes + 1] = function()
        return ("  ... after digest ended, ecs.has(%d, \"Hungry\") = %s"):format(id, tostring(ecs.has(id, "Hungry")))
      end
    end
  end
end)

-- 4. Tags switch behaviour on and off. Awake creatures tire and fall
--    asleep (gain Sleeping); sleepers rest and wake up (lose Sleeping).
--    The two queries split the entities by one tag.
ecs.system("sleep_cycle", function(dt)
  for id, energy, vel in ecs.query({ "Energy", "Velocity" }, { without = { "Sleeping" } }) do
    energy.level = math.max(0, energy.level - 0.06 * dt)
    if energy.level == 0 then
      ecs.set(id, "Sleeping", {})
      vel.x, vel.y = 0, 0
    end
  end
  for id, energy in ecs.query({ "Energy", "Sleeping" }) do
    energy.level = math.min(1, energy.level + 0.25 * dt)
    if energy.level == 1 then
      ecs.remove(id, "Sleeping")
      energy.naps = energy.naps + 1
    end
  end
end)

-- 5. `without` keeps a query away from entities with a tag: a content
--    creature wanders; a Hungry or Sleeping one is somebody else's job.
ecs.system("wander", function(dt)
  for id, vel, creature in ecs.query({ "Velocity", "Creature" }, { without = { "Hungry", "Sleeping" } }) do
    local a = math.atan2(vel.y, vel.x) + ecs.random_range(-3, 3) * dt
    vel.x, vel.y = math.cos(a) * creature.speed, math.sin(a) * creature.speed
  end
end)

-- 6. Hungry (and awake) creatures head for the nearest food and eat it.
ecs.system("forage", function(dt)
  -- First collect the food: one query, copied into a plain table.
  local food = {}
  for id, pos in ecs.query({ "Position", "Food" }) do
    food[#food + 1] = { id = id, x = pos.x, y = pos.y }
  end
  local eaten = {}   -- food taken this frame (see the despawn below)
  for id, pos, vel, creature, stomach in ecs.query({ "Position", "Velocity", "Creature", "Stomach", "Hungry" },
                                                   { without = { "Sleeping" } }) do
    local best, best_d2 = nil, math.huge
    for _, f in ipairs(food) do
      local d2 = (f.x - pos.x) ^ 2 + (f.y - pos.y) ^ 2
      if f.id ~= id and not eaten[f.id] and d2 < best_d2 then best, best_d2 = f, d2 end
    end
    if best == nil then
      vel.x, vel.y = vel.x * 0.9, vel.y * 0.9          -- nothing to eat: wait
    elseif best_d2 < EAT_DISTANCE ^ 2 then
      -- Eat: the food entity goes, and so does the Hungry tag. Both are
      -- structural, so both apply when "forage" ends. Until then
      -- ecs.exists(best.id) is still true, which is why `eaten` remembers
      -- it for the other creatures in this loop.
      ecs.despawn(best.id)
      eaten[best.id] = true
      ecs.remove(id, "Hungry")
      stomach.fullness = 1                              -- a field: applies at once
      stomach.meals = stomach.meals + 1
      ecs.persist.meals = ecs.persist.meals + 1
      print(("%s ate food #%d (its meal %d; %d meals in all)")
        :format(name_of(id), best.id, stomach.meals, ecs.persist.meals))
      if not ecs.persist.shown_eaten then
        ecs.persist.shown_eaten = true
        local food_id = best.id
        print(("  inside forage, ecs.exists(%d) = %s"):format(food_id, tostring(ecs.exists(food_id))))
        notes[#notes + 1] = function()
          return ("  ... after forage ended, ecs.exists(%d) = %s"):format(food_id, tostring(ecs.exists(food_id)))
        end
      end
    else
      local d = math.sqrt(best_d2)
      local speed = creature.speed * 1.5                -- hunger hurries them
      vel.x, vel.y = (best.x - pos.x) / d * speed, (best.y - pos.y) / d * speed
    end
  end
end)

-- 7. Moving is one more query: everything with a Position and a Velocity,
--    except sleepers. Add Sleeping to an entity and it stops right here.
ecs.system("move", function(dt)
  for id, pos, vel in ecs.query({ "Position", "Velocity" }, { without = { "Sleeping" } }) do
    pos.x = pos.x + vel.x * dt
    pos.y = pos.y + vel.y * dt
    if pos.x < 2 and vel.x < 0 or pos.x > W - 2 and vel.x > 0 then vel.x = -vel.x end
    if pos.y < 2 and vel.y < 0 or pos.y > H - 2 and vel.y > 0 then vel.y = -vel.y end
  end
end)

-- 8. The colour shows the state, and the state is nothing but tags:
--    three queries, three colours.
ecs.system("paint", function(dt)
  for _, c in ecs.query({ "Color", "Creature" }, { without = { "Hungry", "Sleeping" } }) do
    c.r, c.g, c.b = 0.45, 0.85, 0.45                    -- content: green
  end
  for _, c in ecs.query({ "Color", "Hungry" }, { without = { "Sleeping" } }) do
    c.r, c.g, c.b = 1.0, 0.50, 0.20                     -- hungry: orange
  end
  for _, c in ecs.query({ "Color", "Sleeping" }) do
    c.r, c.g, c.b = 0.40, 0.45, 0.85                    -- asleep: blue
  end
end)

-- Runs last, so every change above has been applied by now.
ecs.system("explain", function(dt)
  for i, note in ipairs(notes) do
    print(note())
    notes[i] = nil
  end
end)

-- ecs.persist keeps the meal count (and the "shown" flags) across hot
-- reloads of this script.
ecs.persist.meals = ecs.persist.meals or 0
