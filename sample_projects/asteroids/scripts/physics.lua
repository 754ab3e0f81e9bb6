-- physics.lua: everything that happens in space, in Lua.
--
-- It moves every body, wraps it around the edges, tumbles the asteroids,
-- ages bullets and debris, and checks collisions. It never decides who
-- scores or when the game ends: it reports what happened with events
-- ("asteroid_destroyed", "ship_destroyed"), and rules.py, in Python, keeps
-- the score. Code that runs every frame over every body stays in Lua,
-- where a call costs tens of nanoseconds; the rules run a few times a
-- second, where Python's comfort costs nothing.

-- The arena. rules.py spawns waves along the same edges.
local W, H = 160, 100

-- Components this game adds to the built-in ones. Python spawns entities
-- with Asteroid and Ship too: a component declared in one language is used
-- from the other, with the same fields and defaults.
ecs.component("Asteroid", { size = 3, spin = 0.0 })  -- size 3 big, 2 medium, 1 small
ecs.component("Ship", { invulnerable = 0.0 })         -- seconds left of the spawn shield
ecs.component("Bullet", { life = 1.0 })               -- seconds left to fly
ecs.component("Debris", { life = 0.5, max = 0.5 })    -- a spark of an explosion

local random_range = ecs.random_range
local cos, sin, pi = math.cos, math.sin, math.pi

-- Collisions are circle against circle. An asteroid of size s is a
-- square 4 * s across (it tumbles), and collides as a circle of radius 2 * s.
local function radius(size) return 2 * size end
local SHIP_RADIUS = 1.6
local BULLET_RADIUS = 0.5

-- Bigger asteroids are lighter grey.
local function rock_color(size)
  local grey = 0.55 + 0.1 * size
  return { r = grey, g = grey * 0.9, b = grey * 0.8 }
end

-- Four dim markers frame the arena, so the scene view's Fit shows all of it.
-- ecs.persist remembers them across hot reloads of this script, which
-- would otherwise spawn four more each time it is saved.
if not ecs.persist.corners then
  for _, c in ipairs({ { 0, 0 }, { W, 0 }, { 0, H }, { W, H } }) do
    ecs.spawn({
      Name = "arena corner",
      Position = { x = c[1], y = c[2] },
      Shape = { kind = "rect", size = 1.5 },
      Color = { r = 0.4, g = 0.4, b = 0.5 },
    })
  end
  ecs.persist.corners = true
end

-- rules.py spawns asteroids and ships with only what the rules care about
-- (Position, Velocity, Asteroid or Ship). How they look is decided here, in
-- one place: these systems dress each new one, and `without = { "Shape" }`
-- means that only the undressed ones are visited.
ecs.system("dress_asteroids", { "Asteroid" }, function(id, rock, dt)
  ecs.set(id, "Shape", { kind = "rect", size = 2 * radius(rock.size) })
  ecs.set(id, "Color", rock_color(rock.size))
  ecs.set(id, "Rotation", { angle = random_range(0, 2 * pi) })
end, { without = { "Shape" } })

ecs.system("dress_ship", { "Ship" }, function(id, ship, dt)
  ecs.set(id, "Shape", { kind = "triangle", size = 4 })
  ecs.set(id, "Color", { r = 0.55, g = 0.9, b = 1.0 })
  ecs.set(id, "Rotation", { angle = pi / 2 })
end, { without = { "Shape" } })

-- Everything with a velocity moves and wraps around the edges. A
-- per-entity system is the right tool here: a few dozen bodies.
ecs.system("move", { "Position", "Velocity" }, function(id, pos, vel, dt)
  pos.x = (pos.x + vel.x * dt) % W
  pos.y = (pos.y + vel.y * dt) % H
end)

ecs.system("tumble", { "Rotation", "Asteroid" }, function(id, rot, rock, dt)
  rot.angle = rot.angle + rock.spin * dt
end)

-- Bullets fly for a while, then vanish. A despawn inside a system is
-- applied when the system ends, so the loop never sees half an entity.
ecs.system("age_bullets", { "Bullet" }, function(id, bullet, dt)
  bullet.life = bullet.life - dt
  if bullet.life <= 0 then ecs.despawn(id) end
end)

ecs.system("age_debris", { "Debris", "Color" }, function(id, debris, color, dt)
  debris.life = debris.life - dt
  color.a = math.max(debris.life / debris.max, 0)
  if debris.life <= 0 then ecs.despawn(id) end
end)

-- A new ship blinks while its shield lasts.
ecs.system("shield", { "Ship", "Color" }, function(id, ship, color, dt)
  if ship.invulnerable > 0 then
    ship.invulnerable = math.max(ship.invulnerable - dt, 0)
    color.a = (ecs.frame() % 10 < 5) and 0.25 or 1.0
  else
    color.a = 1.0
  end
end)

local function explode(x, y, count, r, g, b)
  for _ = 1, count do
    local angle, speed = random_range(0, 2 * pi), random_range(8, 25)
    local life = random_range(0.3, 0.7)
    ecs.spawn({
      Position = { x = x, y = y },
      Velocity = { x = cos(angle) * speed, y = sin(angle) * speed },
      Debris = { life = life, max = life },
      Shape = { kind = "circle", size = 0.8 },
      Color = { r = r, g = g, b = b },
    })
  end
end

-- Two smaller asteroids where a bigger one was: faster, in new directions.
local function split(name, size, x, y, vx, vy)
  local child = size - 1
  for k = 1, 2 do
    local angle, kick = random_range(0, 2 * pi), random_range(6, 14)
    ecs.spawn({
      Name = name .. (k == 1 and "a" or "b"),
      Position = { x = x + cos(angle) * radius(child), y = y + sin(angle) * radius(child) },
      Velocity = { x = vx * 0.8 + cos(angle) * kick, y = vy * 0.8 + sin(angle) * kick },
      Rotation = { angle = angle },
      Asteroid = { size = child, spin = random_range(-3, 3) },
      Shape = { kind = "rect", size = 2 * radius(child) },
      Color = rock_color(child),
    })
  end
end

-- Collisions, once a frame. First copy the asteroids into plain tables
-- (a live component is only valid inside its loop), then test each bullet
-- and the ship against them. A few dozen asteroids and bullets make a few
-- hundred distance checks: no grid needed at this size.
ecs.system("collide", function(dt)
  local n, ids, xs, ys, vxs, vys, sizes = 0, {}, {}, {}, {}, {}, {}
  for id, pos, vel, rock in ecs.query({ "Position", "Velocity", "Asteroid" }) do
    n = n + 1
    ids[n], xs[n], ys[n], vxs[n], vys[n], sizes[n] = id, pos.x, pos.y, vel.x, vel.y, rock.size
  end
  if n == 0 then return end

  local hit_by = {}  -- asteroid index -> "bullet" or "ship"
  -- The first asteroid not hit yet that a body of radius `reach` at (x, y)
  -- touches.
  local function touching(x, y, reach)
    for j = 1, n do
      local r = radius(sizes[j]) + reach
      local dx, dy = xs[j] - x, ys[j] - y
      if not hit_by[j] and dx * dx + dy * dy < r * r then return j end
    end
  end

  for id, pos in ecs.query({ "Position", "Bullet" }) do
    local j = touching(pos.x, pos.y, BULLET_RADIUS)
    if j then
      hit_by[j] = "bullet"
      ecs.despawn(id)
    end
  end

  for id, pos, ship in ecs.query({ "Position", "Ship" }) do
    local j = ship.invulnerable <= 0 and touching(pos.x, pos.y, SHIP_RADIUS)
    if j then
      hit_by[j] = "ship"
      ecs.despawn(id)
      explode(pos.x, pos.y, 14, 0.55, 0.9, 1.0)
      -- Python's handler takes a life away, next frame.
      ecs.emit("ship_destroyed", { x = pos.x, y = pos.y })
    end
  end

  for j = 1, n do
    local by = hit_by[j]
    if by then
      if sizes[j] > 1 then
        split(ecs.get(ids[j], "Name") or "asteroid", sizes[j], xs[j], ys[j], vxs[j], vys[j])
      end
      ecs.despawn(ids[j])
      explode(xs[j], ys[j], 3 + 2 * sizes[j], 1.0, 0.7, 0.3)
      -- Reported, not scored: the points are Python's business.
      ecs.emit("asteroid_destroyed", { size = sizes[j], by = by, x = xs[j], y = ys[j] })
    end
  end
end)
