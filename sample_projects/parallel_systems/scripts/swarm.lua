-- What every swarm does, loaded with `require` by each swarm's script.
-- Each script has its own Lua state, so each gets its own copy.
local M = {}

-- Spawns `count` members of a swarm around its home, with the swarm's
-- own component (`kind`) holding each member's velocity. Only once: a
-- saved change reloads the script, and ecs.persist survives that.
function M.spawn(kind, count, home, color)
  if ecs.persist.spawned then
    return
  end
  ecs.persist.spawned = true
  for _ = 1, count do
    local a, r = ecs.random() * 2 * math.pi, ecs.random() * 40
    ecs.spawn({
      Position = { x = home.x + math.cos(a) * r, y = home.y + math.sin(a) * r },
      Shape = { kind = "circle", size = 1.5 },
      Color = color,
      [kind] = { vx = ecs.random() * 20 - 10, vy = ecs.random() * 20 - 10 },
    })
  end
end

-- Steers every member of a swarm: towards its neighbours, along with
-- them, away from those too close, and back home. It compares every member
-- with every other one (n^2 on purpose): this is the heavy work that
-- systems of different scripts can share out over the cores.
function M.steer(view, kind, home, tune)
  local n = view.n
  local px, py = view.Position.x, view.Position.y
  local vx, vy = view[kind].vx, view[kind].vy
  -- Plain tables: random reads of the same members many times are
  -- faster there than in the view's arrays.
  local x, y, u, v = {}, {}, {}, {}
  for i = 0, n - 1 do
    x[i], y[i], u[i], v[i] = px[i], py[i], vx[i], vy[i]
  end
  local see2, near2 = tune.see * tune.see, tune.near * tune.near
  for i = 0, n - 1 do
    local xi, yi = x[i], y[i]
    local cx, cy, ax, ay, sx, sy, k = 0, 0, 0, 0, 0, 0, 0
    for j = 0, n - 1 do
      local dx, dy = x[j] - xi, y[j] - yi
      local d2 = dx * dx + dy * dy
      if d2 < see2 then
        k = k + 1
        cx, cy = cx + dx, cy + dy
        ax, ay = ax + u[j], ay + v[j]
        if d2 < near2 then
          sx, sy = sx - dx, sy - dy
        end
      end
    end
    -- The loop counted the member itself (it adds nothing to the sums
    -- of distances): take it out of the count and the velocities.
    local nu, nv = u[i], v[i]
    k, ax, ay = k - 1, ax - nu, ay - nv
    if k > 0 then
      nu = nu + cx / k * tune.cohesion + (ax / k - nu) * tune.alignment + sx * tune.separation
      nv = nv + cy / k * tune.cohesion + (ay / k - nv) * tune.alignment + sy * tune.separation
    end
    -- Home pulls it in and turns it around, so the swarm circles.
    local hx, hy = home.x - xi, home.y - yi
    nu = nu + hx * tune.homing - hy * tune.swirl
    nv = nv + hy * tune.homing + hx * tune.swirl
    local speed = math.sqrt(nu * nu + nv * nv)
    if speed > tune.max_speed then
      nu, nv = nu / speed * tune.max_speed, nv / speed * tune.max_speed
    end
    vx[i], vy[i] = nu, nv
  end
end

-- How every swarm steers; each script changes what it likes.
M.tune = {
  see = 14,          -- how far a member sees its neighbours
  near = 4,          -- closer than this, it moves away
  cohesion = 0.02,
  alignment = 0.05,
  separation = 0.05,
  homing = 0.01,
  swirl = 0.004,
  max_speed = 30,
}

return M
