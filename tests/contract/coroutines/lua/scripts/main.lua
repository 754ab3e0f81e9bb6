local d = ecs.start("d", function()
  while true do
    print("d", ecs.frame())
    coroutine.yield()
  end
end)

ecs.start("a", function(tag)
  print("a start", tag, ecs.frame())
  ecs.wait_frames(2)
  print("a after wait_frames(2)", ecs.frame())
  coroutine.yield()
  print("a after bare yield", ecs.frame())
  ecs.wait_seconds(0.5)
  print("a after wait_seconds(0.5)", ecs.frame(), ecs.time())
  local p = ecs.wait_event("go")
  print("a got", p.n, ecs.frame())
end, "tag1")

ecs.system("sys", function()
  local f = ecs.frame()
  if f == 1 then
    ecs.start("b", function()
      print("b start", ecs.frame())
      ecs.start("c", function() print("c start", ecs.frame()) end)
    end)
  elseif f == 4 then
    print("stop d", ecs.stop(d), ecs.stop(d))
  elseif f == 6 then
    ecs.emit("go", { n = 1 })
  end
end)
