ecs.emit("ping", { n = 1 })
ecs.on("ping", function(p) print("a got ping", p.n, ecs.frame()) end)
ecs.on("pong", function(p) print("a got pong", p, ecs.frame()) end)
ecs.system("sys", function()
  if ecs.frame() == 0 then
    ecs.emit("ping", { n = 2 })
    ecs.emit("pong", "x")
  end
end)
