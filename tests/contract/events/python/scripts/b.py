import ecs


@ecs.on("ping")
def got_ping(p):
    print("b got ping", p["n"], ecs.frame())
    if p["n"] == 2:
        ecs.emit("pong", "from handler")


ecs.emit("ping", {"n": 0})
