ecs.system("a1", function() print("a1", ecs.frame(), ecs.time()) end)
ecs.system("a2", function() print("a2", ecs.frame()) end)
print("load a", ecs.frame(), ecs.dt())
function on_load() print("on_load a") end
