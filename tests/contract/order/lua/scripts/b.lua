ecs.system("b1", function(dt) print("b1", ecs.frame(), dt) end)
print("load b")
