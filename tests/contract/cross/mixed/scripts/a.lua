ecs.component("Shared", { count = 0, ratio = 0.5, flag = false, label = "lua", items = {} })
ecs.spawn({ Shared = { count = 1, items = { 1, 2.5 } } })
ecs.on("from_py", function(p)
  print("lua got", p.i, p.f, p.b, p.s, #p.list, p.list[2], p.map.k, ecs.frame())
  ecs.emit("from_lua", { i = p.i + 1, f = p.f * 2, b = not p.b, s = p.s .. "!", list = p.list })
end)
ecs.system("lua_sys", { "Shared" }, function(id, s, dt) s.count = s.count + 1 end)
ecs.system("lua_sees", function()
  if ecs.frame() == 1 then
    for id, pc in ecs.query({ "PyComp" }) do print("lua sees", pc.level, pc.name) end
  end
end)
