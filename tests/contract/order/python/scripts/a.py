import ecs

ecs.system("a1", lambda dt: print("a1", ecs.frame(), ecs.time()))
ecs.system("a2", lambda dt: print("a2", ecs.frame()))
print("load a", ecs.frame(), ecs.dt())


def on_load():
    print("on_load a")
