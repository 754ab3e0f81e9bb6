-- avoidance.lua: walkers push each other apart so the crowd does not pile
-- up. This is the hotspot: find it in the Profiler, then set FAST = true
-- and save.

local FAST = false       -- try true
local RADIUS = 3.0       -- how close is too close
local PUSH = 4.0

local function push(vel_x, vel_y, dx, dy, d2)
  local d = math.sqrt(d2)
  local k = PUSH * (RADIUS - d) / (RADIUS * d)
  return vel_x + dx * k, vel_y + dy * k
end

-- The slow way: for each walker, query the whole crowd again. A query per
-- walker means n² live components handed out, and the pair test runs for
-- every pair, near or far.
local function separate_slow()
  for a, pa, vel in ecs.query({ "Position", "Velocity", "Walker" }) do
    local vx, vy = vel.x, vel.y
    for b, pb in ecs.query({ "Position", "Walker" }) do
      local dx, dy = pa.x - pb.x, pa.y - pb.y
      local d2 = dx * dx + dy * dy
      if a ~= b and d2 > 0 and d2 < RADIUS * RADIUS then
        vx, vy = push(vx, vy, dx, dy, d2)
      end
    end
    vel.x, vel.y = vx, vy
  end
end

-- The fast way: copy the positions out once, bucket them in a grid of
-- RADIUS-sized cells, and compare each walker only with its neighbours.
local function separate_fast()
  local xs, ys, vels, n = {}, {}, {}, 0
  local cells = {}
  for id, pos, vel in ecs.query({ "Position", "Velocity", "Walker" }) do
    n = n + 1
    xs[n], ys[n], vels[n] = pos.x, pos.y, vel
    local key = math.floor(pos.x / RADIUS) * 4096 + math.floor(pos.y / RADIUS)
    local cell = cells[key]
    if not cell then cell = {}; cells[key] = cell end
    cell[#cell + 1] = n
  end
  for i = 1, n do
    local cx, cy = math.floor(xs[i] / RADIUS), math.floor(ys[i] / RADIUS)
    local vel = vels[i]
    local vx, vy = vel.x, vel.y
    for gx = cx - 1, cx + 1 do
      for gy = cy - 1, cy + 1 do
        local cell = cells[gx * 4096 + gy]
        if cell then
          for _, j in ipairs(cell) do
            local dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            local d2 = dx * dx + dy * dy
            if j ~= i and d2 > 0 and d2 < RADIUS * RADIUS then
              vx, vy = push(vx, vy, dx, dy, d2)
            end
          end
        end
      end
    end
    vel.x, vel.y = vx, vy
  end
end

ecs.system("separate", function(dt)
  if FAST then separate_fast() else separate_slow() end
end)
