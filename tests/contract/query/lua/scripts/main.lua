ecs.component("Frozen", {})
for i = 1, 5 do
  local c = { Position = { x = i, y = 0 } }
  if i % 2 == 0 then c.Velocity = { x = 10, y = 0 } end
  if i == 3 then c.Frozen = {} end
  ecs.spawn(c)
end
print("counts", ecs.count({ "Position" }), ecs.count({ "Position", "Velocity" }),
  ecs.count({ "Position" }, { without = { "Frozen" } }))
ecs.system("move", { "Position", "Velocity" }, function(id, pos, vel, dt)
  pos.x = pos.x + vel.x * dt
end)
ecs.system("list", function()
  local seen = {}
  for id, pos in ecs.query({ "Position" }, { without = { "Frozen" } }) do
    seen[#seen + 1] = id .. ":" .. pos.x
  end
  print(table.concat(seen, " "))
end)
