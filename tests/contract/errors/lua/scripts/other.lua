ecs.system("emitter", function()
  if ecs.frame() == 0 then ecs.emit("boom", "now") end
  if ecs.frame() == 1 then ecs.emit("boom", "again") end
end)
