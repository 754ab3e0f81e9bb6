ecs.on("ping", function(p)
  print("b got ping", p.n, ecs.frame())
  if p.n == 2 then ecs.emit("pong", "from handler") end
end)
ecs.emit("ping", { n = 0 })
