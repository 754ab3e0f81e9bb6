-- autopilot.lua: there is no keyboard in ECScope's scripting API, so the
-- ship flies itself. It stays where it is, turns towards the nearest
-- asteroid at a limited speed, and fires when its nose is close enough.
--
-- Tweak it live: change a number below and save (Ctrl+S in the Scripts
-- tab). The script is hot-reloaded between two frames; the ship, the
-- asteroids and the score carry on, and the next shot uses the new values.
local PILOT = {
  turn_speed = 2.2,     -- radians per second the ship can turn (aim speed)
  fire_every = 0.3,     -- seconds between two shots (fire rate)
  aim_tolerance = 0.12, -- fire when the target is within this angle of the nose (radians)
  lead = 1.0,           -- 1 aims where the target will be when the bullet arrives; 0 where it is now
  bullet_speed = 70,    -- units per second
  bullet_life = 1.1,    -- seconds, so the range is speed * life
}

local sqrt, atan2, cos, sin, abs, pi = math.sqrt, math.atan2, math.cos, math.sin, math.abs, math.pi

-- What the aim system found this frame, for the trigger coroutine below.
local aim = { ready = false, x = 0, y = 0, angle = 0 }

-- Shots and hits for the whole game. In ecs.persist, so that saving this
-- script does not reset them.
ecs.persist.shots = ecs.persist.shots or 0
ecs.persist.hits = ecs.persist.hits or 0

ecs.system("aim", function(dt)
  aim.ready = false
  for _, pos, rot in ecs.query({ "Position", "Rotation", "Ship" }) do
    -- The nearest asteroid, by straight-line distance.
    local best, tx, ty, tvx, tvy = math.huge
    for _, apos, avel in ecs.query({ "Position", "Velocity", "Asteroid" }) do
      local dx, dy = apos.x - pos.x, apos.y - pos.y
      local d2 = dx * dx + dy * dy
      if d2 < best then best, tx, ty, tvx, tvy = d2, apos.x, apos.y, avel.x, avel.y end
    end
    if tx then
      local distance = sqrt(best)
      -- Leading the target: aim where it will be when the bullet gets there.
      local t = distance / PILOT.bullet_speed * PILOT.lead
      local want = atan2(ty + tvy * t - pos.y, tx + tvx * t - pos.x)
      -- The shortest way round, limited to what the ship can turn this frame.
      local diff = (want - rot.angle + pi) % (2 * pi) - pi
      local step = PILOT.turn_speed * dt
      local turn = math.max(-step, math.min(step, diff))
      rot.angle = (rot.angle + turn) % (2 * pi)
      aim.ready = abs(diff - turn) < PILOT.aim_tolerance
        and distance < PILOT.bullet_speed * PILOT.bullet_life
      aim.x, aim.y, aim.angle = pos.x, pos.y, rot.angle
    end
  end
end)

local function fire()
  local dx, dy = cos(aim.angle), sin(aim.angle)
  ecs.spawn({
    Position = { x = aim.x + dx * 3, y = aim.y + dy * 3 },
    Velocity = { x = dx * PILOT.bullet_speed, y = dy * PILOT.bullet_speed },
    Bullet = { life = PILOT.bullet_life },
    Shape = { kind = "circle", size = 1 },
    Color = { r = 1.0, g = 0.95, b = 0.4 },
  })
  ecs.persist.shots = ecs.persist.shots + 1
end

-- The trigger is a coroutine: it reads like the rule it follows. "When
-- aimed, fire, then wait fire_every seconds." Open the Coroutines tab to see
-- it waiting, and the line it waits at.
ecs.start("trigger", function()
  while true do
    if aim.ready then
      fire()
      ecs.wait_seconds(PILOT.fire_every)
    else
      coroutine.yield()  -- look again next frame
    end
  end
end)

-- Events from both languages: physics.lua (Lua) reports hits, rules.py
-- (Python) announces waves and the end of a game.
ecs.on("asteroid_destroyed", function(event)
  if event.by == "bullet" then ecs.persist.hits = ecs.persist.hits + 1 end
end)

ecs.on("game_over", function(event)
  local shots, hits = ecs.persist.shots, ecs.persist.hits
  print(("autopilot: game %d over; %d shots, %d hits (%.0f%%)")
    :format(event.game, shots, hits, shots > 0 and 100 * hits / shots or 0))
end)

ecs.on("restart", function(event)
  ecs.persist.shots, ecs.persist.hits = 0, 0
end)
