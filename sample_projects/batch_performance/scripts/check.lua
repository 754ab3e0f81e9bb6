-- check.lua: are the particles where they should be?
--
-- A particle that turns at `speed` along a circle of radius r has, after
-- the flow has carried it a distance d, turned by d / r. So its exact
-- position is known without stepping frame by frame. Every few seconds
-- this compares each particle with that exact position and logs the
-- largest difference. All three ways keep it at round-off size (around
-- 1e-12), and switching ways does not change it: they compute the same
-- numbers. Drag a particle somewhere in the Inspector and the next check
-- names it.
local settings = require("settings")
local sqrt, cos, sin, atan2 = math.sqrt, math.cos, math.sin, math.atan2

local CONFIG
for id in ecs.query({ "Mode" }) do CONFIG = id end

-- The reference: each particle's radius and angle when the distance
-- travelled was 0. Keyed by entity id, because a batch view comes in
-- storage order and view.ids[i] says which entity row i is.
local ref_r, ref_theta = {}, {}
local travelled = 0
local function rebase(id, x, y)
  local r = sqrt(x * x + y * y)
  if r < 1 then r = 1 end
  ref_r[id], ref_theta[id] = r, atan2(y, x) - travelled / r
end
for id, pos in ecs.query({ "Position" }) do rebase(id, pos.x, pos.y) end

ecs.batch_system("check", { "Position" }, function(view, dt)
  local flow = ecs.get(CONFIG, "Flow")
  travelled = travelled + flow.speed * dt       -- this frame's step, in every way
  local frames = ecs.frame() + 1                -- frames run once this one ends
  if frames % settings.check_every ~= 0 then return end

  local px, py, ids = view.Position.x, view.Position.y, view.ids
  local worst, worst_id, off = 0, nil, {}
  for i = 0, view.n - 1 do
    local id = ids[i]
    local r = ref_r[id]
    if r then
      local theta = ref_theta[id] + travelled / r
      local dx, dy = px[i] - r * cos(theta), py[i] - r * sin(theta)
      local err = sqrt(dx * dx + dy * dy)
      if err > worst then worst, worst_id = err, id end
      if err > 1e-6 then off[#off + 1] = i end
    end
  end
  local way = ecs.get(CONFIG, "Mode").way
  print(("check after %d frames (way %s, %s): %d particles, max error %.3g")
    :format(frames, tostring(way), settings.labels[way] or "?", view.n, worst))
  if #off > 0 then
    print(("%d particle(s) left their orbit, the farthest is entity %d (%.3g units off);"
      .. " they orbit from where they are now"):format(#off, worst_id, worst))
    for _, i in ipairs(off) do rebase(ids[i], px[i], py[i]) end
  end
end)
