-- Ring 141: one of 1,000 small scripts, each with its own Lua state,
-- its own component type and its own system (written by make_rings.py).
local CX, CY, SPEED = 525, 75, 0.75
ecs.component("Ring0141", { phase = 0 })
for k = 1, 10 do
  ecs.spawn({
    Position = { x = CX, y = CY },
    Shape = { kind = "circle", size = 2 },
    Color = { r = 0.68, g = 0.7, b = 0.91, a = 1 },
    Ring0141 = { phase = k * math.pi / 5 },
  })
end

-- It declares what it touches: its own Ring under reads, so it writes
-- only Position. Every ring writes Position, so no two run at once.
ecs.system("ring", { "Position", "Ring0141" }, function(id, pos, ring, dt)
  local a = ecs.time() * SPEED + ring.phase
  pos.x, pos.y = CX + math.cos(a) * 8, CY + math.sin(a) * 8
end, { reads = { "Ring0141" } })
