-- guards.lua: three guards, each run by its own coroutine.
--
-- A coroutine reads like a story: walk to the next waypoint, look around
-- for a while, go on. When the "watch" system sees the intruder it raises
-- the guard's alarm, and the guard's coroutine switches to chasing.

ecs.component("Guard", { speed = 12.0, alarm = 0.0, seen_x = 0.0, seen_y = 0.0 })

local VIEW = 18        -- how far a guard sees
local ALARM_TIME = 3.0 -- seconds a guard keeps chasing after losing sight

-- One step towards (x, y); true once there.
local function step_towards(id, x, y, speed)
  local pos = ecs.get(id, "Position")
  local dx, dy = x - pos.x, y - pos.y
  local distance = math.sqrt(dx * dx + dy * dy)
  if distance < 0.5 then return true end
  local step = math.min(distance, speed * ecs.dt())
  ecs.set(id, "Position", { x = pos.x + dx / distance * step, y = pos.y + dy / distance * step })
  ecs.set(id, "Rotation", { angle = math.atan2(dy, dx) })
  return false
end

local function chase(id)
  ecs.set(id, "Color", { r = 1.0, g = 0.3, b = 0.25 })
  while ecs.get(id, "Guard").alarm > 0 do
    local guard = ecs.get(id, "Guard")
    step_towards(id, guard.seen_x, guard.seen_y, guard.speed * 1.6)
    coroutine.yield()
  end
  ecs.set(id, "Color", { r = 0.35, g = 0.7, b = 1.0 })
end

local function patrol(id, route)
  local waypoint = 1
  while true do
    if ecs.get(id, "Guard").alarm > 0 then
      chase(id)
    else
      local target = route[waypoint]
      local arrived = step_towards(id, target[1], target[2], ecs.get(id, "Guard").speed)
      if arrived then
        ecs.wait_seconds(1.5)            -- look around at the waypoint
        waypoint = waypoint % #route + 1
      else
        coroutine.yield()
      end
    end
  end
end

local routes = {
  { { 10, 10 }, { 50, 10 }, { 50, 40 }, { 10, 40 } },
  { { 90, 70 }, { 60, 70 }, { 60, 45 } },
  { { 20, 80 }, { 80, 85 } },
}

for i, route in ipairs(routes) do
  local id = ecs.spawn({
    Name = "guard-" .. i,
    Guard = { speed = 10 + i * 2 },
    Position = { x = route[1][1], y = route[1][2] },
    Rotation = {},
    Shape = { kind = "triangle", size = 4 },
    Color = { r = 0.35, g = 0.7, b = 1.0 },
  })
  ecs.start("guard-" .. i, patrol, id, route)
end

-- Every frame: can a guard see the intruder? Seeing raises the alarm and
-- tells the other scripts.
ecs.system("watch", { "Guard", "Position" }, function(id, guard, pos, dt)
  if guard.alarm > 0 then guard.alarm = math.max(0, guard.alarm - dt) end
  for other, intruder, ipos in ecs.query({ "Intruder", "Position" }) do
    local dx, dy = ipos.x - pos.x, ipos.y - pos.y
    if not intruder.hidden and dx * dx + dy * dy < VIEW * VIEW then
      if guard.alarm == 0 then
        ecs.emit("intruder_seen", { guard = id, x = ipos.x, y = ipos.y })
      end
      guard.alarm, guard.seen_x, guard.seen_y = ALARM_TIME, ipos.x, ipos.y
    end
  end
end)
