-- Flocking (Reynolds' boids): cohesion, alignment and separation.
--
-- Both systems are batch systems: ECScope calls each once per frame with
-- the flock's numbers as arrays (view.Position.x[i] for i = 0 .. view.n - 1)
-- instead of once per boid, and the writes to the arrays reach the world
-- when the function returns.
--
-- "move" walks the arrays straight through, which is what they are fastest
-- at. "steer" compares each boid with its neighbours, reading the same
-- boids many times in no particular order: plain Lua tables are faster for
-- that than the checked arrays, so it copies the arrays into tables once,
-- buckets the boids into a grid so each only looks at nearby cells, and
-- writes the new velocities back into the arrays.
local settings = require("settings")

local W, H = settings.width, settings.height
local R, R2 = settings.view_radius, settings.view_radius ^ 2
local S2 = settings.separation_radius ^ 2
local wc, wa, ws = settings.weights.cohesion, settings.weights.alignment, settings.weights.separation
local cols, rows = math.ceil(W / R), math.ceil(H / R)
local floor, sqrt, atan2 = math.floor, math.sqrt, math.atan2

local px, py, vx, vy, fl = {}, {}, {}, {}, {}

ecs.batch_system("steer", { "Position", "Velocity", "Boid" }, function(view, dt)
  -- 1. Copy the flock out of the arrays (0-based) into tables (1-based).
  local n = view.n
  local x_of, y_of = view.Position.x, view.Position.y
  local vx_of, vy_of = view.Velocity.x, view.Velocity.y
  local flock_of = view.Boid.flock
  for i = 1, n do
    px[i], py[i], vx[i], vy[i], fl[i] = x_of[i - 1], y_of[i - 1], vx_of[i - 1], vy_of[i - 1], flock_of[i - 1]
  end

  -- 2. Bucket boids into grid cells of the view radius.
  local grid = {}
  for i = 1, n do
    local cell = floor(px[i] / R) % cols + (floor(py[i] / R) % rows) * cols
    local bucket = grid[cell]
    if bucket then bucket[#bucket + 1] = i else grid[cell] = { i } end
  end

  -- 3. Steer each boid by its neighbours in the 9 cells around it.
  for i = 1, n do
    local x, y = px[i], py[i]
    local cx, cy = floor(x / R), floor(y / R)
    local sx, sy, ax, ay, kx, ky, count = 0, 0, 0, 0, 0, 0, 0
    for dy = -1, 1 do
      for dx = -1, 1 do
        local bucket = grid[(cx + dx) % cols + ((cy + dy) % rows) * cols]
        if bucket then
          for b = 1, #bucket do
            local j = bucket[b]
            if j ~= i then
              -- Shortest offset across the wrapping edges.
              local ox, oy = px[j] - x, py[j] - y
              if ox > W / 2 then ox = ox - W elseif ox < -W / 2 then ox = ox + W end
              if oy > H / 2 then oy = oy - H elseif oy < -H / 2 then oy = oy + H end
              local d2 = ox * ox + oy * oy
              if d2 < R2 and fl[j] == fl[i] then
                count = count + 1
                sx, sy = sx + ox, sy + oy
                ax, ay = ax + vx[j], ay + vy[j]
                if d2 < S2 then kx, ky = kx - ox / (d2 + 0.01), ky - oy / (d2 + 0.01) end
              end
            end
          end
        end
      end
    end
    local nvx, nvy = vx[i], vy[i]
    if count > 0 then
      nvx = nvx + (sx / count * wc + (ax / count - nvx) * wa * 0.1 + kx * ws) * dt * 4
      nvy = nvy + (sy / count * wc + (ay / count - nvy) * wa * 0.1 + ky * ws) * dt * 4
    end
    local speed = sqrt(nvx * nvx + nvy * nvy)
    if speed > settings.max_speed then
      nvx, nvy = nvx / speed * settings.max_speed, nvy / speed * settings.max_speed
    elseif speed < settings.min_speed and speed > 0 then
      nvx, nvy = nvx / speed * settings.min_speed, nvy / speed * settings.min_speed
    end
    -- 4. Into the arrays: this is what goes back to the world. (The
    -- tables keep the old velocities, so every boid steers by the same
    -- frame's flock.)
    vx_of[i - 1], vy_of[i - 1] = nvx, nvy
  end
end)

-- pos += vel * dt, wrapped around the edges, and the triangle turned along
-- the velocity. These three components are ECScope's own, so the arrays are
-- the world's storage itself: no copy in or out.
ecs.batch_system("move", { "Position", "Velocity", "Rotation" }, function(view, dt)
  local px, py = view.Position.x, view.Position.y
  local vx, vy = view.Velocity.x, view.Velocity.y
  local angle = view.Rotation.angle
  for i = 0, view.n - 1 do
    px[i] = (px[i] + vx[i] * dt) % W
    py[i] = (py[i] + vy[i] * dt) % H
    angle[i] = atan2(vy[i], vx[i])
  end
end)
