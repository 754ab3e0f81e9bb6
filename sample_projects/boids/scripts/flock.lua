-- Flocking (Reynolds' boids): cohesion, alignment and separation.
--
-- Each frame the "steer" system copies every boid's position and velocity
-- into plain Lua arrays once, buckets them into a grid so each boid only
-- looks at nearby cells, and writes the new velocities back. The "move"
-- system is a per-entity system: ECScope calls it once per boid.
local settings = require("settings")

local W, H = settings.width, settings.height
local R, R2 = settings.view_radius, settings.view_radius ^ 2
local S2 = settings.separation_radius ^ 2
local wc, wa, ws = settings.weights.cohesion, settings.weights.alignment, settings.weights.separation
local cols, rows = math.ceil(W / R), math.ceil(H / R)

local px, py, vx, vy, fl, vel_of = {}, {}, {}, {}, {}, {}

ecs.system("steer", function(dt)
  -- 1. Copy the flock out of the world.
  local n = 0
  for id, pos, vel, boid in ecs.query({ "Position", "Velocity", "Boid" }) do
    n = n + 1
    px[n], py[n], vx[n], vy[n], fl[n] = pos.x, pos.y, vel.x, vel.y, boid.flock
    vel_of[n] = vel
  end

  -- 2. Bucket boids into grid cells of the view radius.
  local grid = {}
  for i = 1, n do
    local cell = math.floor(px[i] / R) % cols + (math.floor(py[i] / R) % rows) * cols
    local bucket = grid[cell]
    if bucket then bucket[#bucket + 1] = i else grid[cell] = { i } end
  end

  -- 3. Steer each boid by its neighbours in the 9 cells around it.
  for i = 1, n do
    local x, y = px[i], py[i]
    local cx, cy = math.floor(x / R), math.floor(y / R)
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
    local speed = math.sqrt(nvx * nvx + nvy * nvy)
    if speed > settings.max_speed then
      nvx, nvy = nvx / speed * settings.max_speed, nvy / speed * settings.max_speed
    elseif speed < settings.min_speed and speed > 0 then
      nvx, nvy = nvx / speed * settings.min_speed, nvy / speed * settings.min_speed
    end
    -- 4. Write back through the live component: this changes the world.
    local vel = vel_of[i]
    vel.x, vel.y = nvx, nvy
  end
end)

-- Per-entity system: called once per boid with live components.
ecs.system("move", { "Position", "Velocity", "Rotation" }, function(id, pos, vel, rot, dt)
  local x, y = pos.x + vel.x * dt, pos.y + vel.y * dt
  pos.x, pos.y = x % W, y % H
  rot.angle = math.atan2(vel.y, vel.x)
end)
