import ecs

ecs.emit("ping", {"n": 1})
ecs.on("ping", lambda p: print("a got ping", p["n"], ecs.frame()))
ecs.on("pong", lambda p: print("a got pong", p, ecs.frame()))


def system(dt):
    if ecs.frame() == 0:
        ecs.emit("ping", {"n": 2})
        ecs.emit("pong", "x")


ecs.system("sys", system)
