import ecs

ecs.component("Marker", {"n": 0})
first = ecs.spawn({"Name": "first"})  # id 1, applied at once at load
print("load count", ecs.count(["Name"]))
for id, name in ecs.query(["Name"]):
    ecs.spawn({"Name": "from-loop"})  # id 2, applied when the loop ends
    print("during loop", ecs.count(["Name"]))
print("after loop", ecs.count(["Name"]))


def spawner(dt):
    if ecs.frame() != 0:
        return
    id = ecs.spawn({"Name": "second"})  # id 3, applied when the system ends
    print("in system", ecs.exists(id), ecs.count(["Name"]))
    ecs.set(first, "Name", "first!")  # has Name: applies at once
    print("name now", ecs.get(first, "Name"))
    ecs.set(first, "Marker", {"n": 1})  # adds a component: deferred
    print("marker now", ecs.has(first, "Marker"))
    ecs.despawn(first)  # deferred
    print("still exists", ecs.exists(first))


ecs.system("spawner", spawner)


@ecs.system("after")
def after(dt):
    if ecs.frame() != 0:
        return
    print("next system", ecs.count(["Name"]), ecs.exists(1), ecs.exists(3))
