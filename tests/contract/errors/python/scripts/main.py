import ecs
ecs.component("Counter", {"frames": 0})
id = ecs.spawn({"Counter": {}})
def bad(dt):
    if ecs.frame() == 1:
        return None.field
ecs.system("bad", bad)
def count(id, c, dt):
    c.frames = c.frames + 1
ecs.system("count", ["Counter"], count)
def boom(p):
    raise RuntimeError("handler failed: " + p)
ecs.on("boom", boom)
