import ecs

ecs.component("Stats", {"count": 0, "ratio": 0.5, "alive": True, "label": "none", "path": []})
ecs.spawn({"Stats": {"label": "hero", "path": [1, 2.5]}})
ecs.persist["ticks"] = 0


@ecs.system("tick", ["Stats"])
def tick(id, s, dt):
    ecs.persist["ticks"] += 1
    s.count = s.count + 1
    s.ratio = s.ratio / 2
    s["alive"] = not s["alive"]


@ecs.system("show", ["Stats"])
def show(id, s, dt):
    if ecs.frame() == 2:
        print("ticks", ecs.persist["ticks"], s.label, len(s.path), s.path[1])
