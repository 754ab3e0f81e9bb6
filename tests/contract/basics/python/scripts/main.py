import ecs

ecs.component("Health", {"hp": 100, "max": 100})
ecs.component("Tag", {})
a = ecs.spawn({"Name": "a", "Position": {"x": 1.5}, "Health": {"hp": 5}})
b = ecs.spawn({"Name": "b", "Health": {}, "Tag": {}})
c = ecs.spawn({"Position": {"x": 3, "y": 4}})
ecs.despawn(c)
print("exists", ecs.exists(a), ecs.exists(c))
h = ecs.get(a, "Health")
h["hp"] = 99  # a copy: the world keeps 5
print("hp", ecs.get(a, "Health")["hp"])
ecs.set(b, "Position", {"y": 2})  # adds Position; x takes its default
ecs.set(a, "Health", {"max": 50})  # replaces Health: hp back to its default
ecs.remove(b, "Tag")
print("has", ecs.has(a, "Health"), ecs.has(b, "Tag"), ecs.get(b, "Velocity"))
print("name", ecs.get(a, "Name"))
ecs.spawn({"Name": "d"})
