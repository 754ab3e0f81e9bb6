ecs.component("Stats", { count = 0, ratio = 0.5, alive = true, label = "none", path = {} })
ecs.spawn({ Stats = { label = "hero", path = { 1, 2.5 } } })
ecs.persist.ticks = 0
ecs.system("tick", { "Stats" }, function(id, s, dt)
  ecs.persist.ticks = ecs.persist.ticks + 1
  s.count = s.count + 1
  s.ratio = s.ratio / 2
  s.alive = not s.alive
end)
ecs.system("show", { "Stats" }, function(id, s, dt)
  if ecs.frame() == 2 then
    print("ticks", ecs.persist.ticks, s.label, #s.path, s.path[2])
  end
end)
