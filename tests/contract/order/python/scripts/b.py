import ecs

ecs.system("b1", lambda dt: print("b1", ecs.frame(), dt))
print("load b")
