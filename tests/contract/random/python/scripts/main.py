import ecs

a = ecs.random()
b = ecs.random()
c = ecs.random_range(10, 20)
print("%.6f %.6f %.6f" % (a, b, c))
ecs.spawn({"Position": {"x": a, "y": c}, "Rotation": {"angle": b}})
