-- Tries to take the host down: each system exceeds one limit and is
-- stopped; the others, and the other scripts, go on.
ecs.system("recurse", function()
  local function deeper(n) return deeper(n + 1) + 1 end
  deeper(1)
end)
ecs.system("fill_memory", function()
  local hoard = {}
  for i = 1, 1e9 do hoard[i] = string.rep("x", 1024) .. i end
end)
ecs.system("spin", function()
  while true do end
end)
ecs.system("flood", function()
  for i = 1, 1e7 do ecs.spawn({ Position = { x = i, y = 0 } }) end
end)
ecs.system("huge_event", function()
  local big = {}
  for i = 1, 100000 do big[i] = i end
  ecs.emit("huge", big)
end)
