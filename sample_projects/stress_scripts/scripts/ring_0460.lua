-- Ring 460: one of 1,000 small scripts, each with its own Lua state,
-- its own component type and its own system (written by make_rings.py).
local CX, CY, SPEED = 500, 275, 1.75
ecs.component("Ring0460", { phase = 0 })
for k = 1, 10 do
  ecs.spawn({
    Position = { x = CX, y = CY },
    Shape = { kind = "circle", size = 2 },
    Color = { r = 0.66, g = 0.7, b = 0.68, a = 1 },
    Ring0460 = { phase = k * math.pi / 5 },
  })
end

-- It declares what it touches: its own Ring under reads, so it writes
-- only Position. Every ring writes Position, so no two run at once.
ecs.system("ring", { "Position", "Ring0460" }, function(id, pos, ring, dt)
  local a = ecs.time() * SPEED + ring.phase
  pos.x, pos.y = CX + math.cos(a) * 8, CY + math.sin(a) * 8
end, { reads = { "Ring0460" } })
