-- trails.lua: remembers where each firefly has been, to report how far
-- they fly. It has a leak: every point is kept forever. Find it in the
-- Memory panel, then set KEEP = 120 and save.

local KEEP = nil        -- points kept per firefly; nil keeps them all (the leak)

local trails = {}       -- firefly id -> list of {x, y}

ecs.system("record", { "Position", "Firefly" }, function(id, pos, fly, dt)
  local trail = trails[id]
  if not trail then
    trail = {}
    trails[id] = trail
  end
  trail[#trail + 1] = { x = pos.x, y = pos.y }
  if KEEP and #trail > KEEP then
    table.remove(trail, 1)
  end
end)

ecs.system("report", function(dt)
  if ecs.frame() % 600 ~= 599 then return end
  local points, length = 0, 0
  for _, trail in pairs(trails) do
    points = points + #trail
    for i = 2, #trail do
      local dx, dy = trail[i].x - trail[i - 1].x, trail[i].y - trail[i - 1].y
      if math.abs(dx) < 10 and math.abs(dy) < 10 then   -- not across a wrap
        length = length + math.sqrt(dx * dx + dy * dy)
      end
    end
  end
  print(("%d trail points kept, %.0f units flown"):format(points, length))
end)
