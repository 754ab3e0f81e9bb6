ecs.component("Counter", { frames = 0 })
local id = ecs.spawn({ Counter = {} })
ecs.system("bad", function()
  if ecs.frame() == 1 then
    local t = nil
    return t.field
  end
end)
ecs.system("count", { "Counter" }, function(id, c, dt)
  c.frames = c.frames + 1
end)
ecs.on("boom", function(p) error("handler failed: " .. p) end)
