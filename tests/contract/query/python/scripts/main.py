import ecs

ecs.component("Frozen", {})
for i in range(1, 6):
    c = {"Position": {"x": i, "y": 0}}
    if i % 2 == 0:
        c["Velocity"] = {"x": 10, "y": 0}
    if i == 3:
        c["Frozen"] = {}
    ecs.spawn(c)
print(
    "counts",
    ecs.count(["Position"]),
    ecs.count(["Position", "Velocity"]),
    ecs.count(["Position"], without=["Frozen"]),
)


@ecs.system("move", ["Position", "Velocity"])
def move(id, pos, vel, dt):
    pos.x = pos.x + vel.x * dt


@ecs.system("list")
def list_entities(dt):
    seen = []
    for id, pos in ecs.query(["Position"], {"without": ["Frozen"]}):
        seen.append("%d:%g" % (id, pos["x"]))
    print(" ".join(seen))
