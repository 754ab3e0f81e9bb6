import ecs


def emitter(dt):
    if ecs.frame() == 0:
        ecs.emit("boom", "now")
    if ecs.frame() == 1:
        ecs.emit("boom", "again")


ecs.system("emitter", emitter)
