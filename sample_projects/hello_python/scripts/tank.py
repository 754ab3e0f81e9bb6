"""tank.py: the ecs basics in Python, as a fish tank.

This script makes the tank and everything in it, and the systems that move
them. keeper.py, the second script, learns what happens through events and
queries."""
import math

import ecs

# 1. Components are named bags of fields. Position, Velocity, Rotation,
#    Color, Shape and Name are built in; declare your own with defaults.
ecs.component("Fish", {"turns": 0, "bob": 2.0, "phase": 0.0})
ecs.component("Bubble", {"popped": 0})

# The tank: fish turn at its glass, bubbles rise to its surface.
W, H = 100, 60

COLORS = [
    (1.00, 0.55, 0.15), (0.95, 0.85, 0.25), (0.35, 0.75, 1.00),
    (1.00, 0.45, 0.60), (0.55, 0.95, 0.55), (0.80, 0.55, 1.00),
    (1.00, 0.70, 0.40), (0.40, 0.95, 0.90), (0.95, 0.95, 0.95),
]


# 2. Entities are ids. ecs.spawn takes a dict of component name -> value;
#    fields you leave out get their defaults (Color's "a" is 1, Fish's
#    "turns" is 0).
def fill_tank():
    for i, (r, g, b) in enumerate(COLORS, start=1):
        speed = ecs.random_range(12, 28)          # deterministic: seeded by world.seed
        heading = 1 if ecs.random() < 0.5 else -1
        ecs.spawn({
            "Name": f"fish-{i}",
            "Position": {"x": ecs.random_range(10, W - 10), "y": ecs.random_range(12, H - 10)},
            "Velocity": {"x": speed * heading},
            "Rotation": {"angle": 0.0 if heading > 0 else math.pi},
            "Shape": {"kind": "triangle", "size": 3 + i % 4},
            "Color": {"r": r, "g": g, "b": b},
            "Fish": {"bob": ecs.random_range(1, 4), "phase": ecs.random_range(0, 2 * math.pi)},
        })

    for i in range(1, 6):
        ecs.spawn({
            "Name": f"bubble-{i}",
            "Position": {"x": ecs.random_range(5, W - 5), "y": ecs.random_range(0, H)},
            "Velocity": {"y": ecs.random_range(6, 12)},
            "Shape": {"kind": "circle", "size": 1.2},
            "Color": {"r": 0.8, "g": 0.95, "b": 1.0, "a": 0.6},
            "Bubble": {},
        })

    # Weed on the floor: a Position but no Velocity, so nothing ever moves it.
    for i, x in enumerate((15, 52, 83), start=1):
        ecs.spawn({
            "Name": f"weed-{i}",
            "Position": {"x": x, "y": 2.5},
            "Shape": {"kind": "rect", "size": 5},
            "Color": {"r": 0.20, "g": 0.60, "b": 0.30},
        })


# Saving this file in the Scripts panel reloads it and runs this top level
# again. ecs.persist survives the reload, so the tank is filled only once.
if not ecs.persist.get("filled"):
    fill_tank()
    ecs.persist["filled"] = True


# 3. Systems run every frame, in the order they are registered. A system
#    with a list of components is called once per matching entity with
#    *live* components: assigning a field writes the world. Both spellings
#    work, pos.x and pos["x"].
@ecs.system("move", ["Position", "Velocity"])
def move(id, pos, vel, dt):
    pos.x += vel.x * dt
    pos["y"] += vel["y"] * dt


# Fish bob up and down, and point the way they swim (a triangle points
# along its Rotation). Only entities with Fish and Rotation match, so
# bubbles and weed are never visited.
@ecs.system("bob", ["Velocity", "Rotation", "Fish"])
def bob(id, vel, rot, fish, dt):
    vel.y = fish.bob * math.cos(1.5 * ecs.time() + fish.phase)
    rot.angle = math.atan2(vel.y, vel.x)


# The same registration without a decorator: ecs.system(name, names, fn).
def turn(id, pos, vel, fish, shape, dt):
    r = shape.size / 2
    if (pos.x < r and vel.x < 0) or (pos.x > W - r and vel.x > 0):
        vel.x = -vel.x
        fish.turns += 1
        # 4. Events: ecs.emit queues a message; handlers run at the start
        #    of the next frame, in every script and in both languages.
        ecs.emit("turned", {"id": id, "turns": fish.turns})


ecs.system("turn", ["Position", "Velocity", "Fish", "Shape"], turn)


# 5. A system without components runs once per frame. Inside it, a query
#    loops over matching entities in id order, with live components too.
@ecs.system("bubbles")
def bubbles(dt):
    for id, pos, bubble in ecs.query(["Position", "Bubble"]):
        if pos.y > H:
            pos.y = 0.0
            pos.x = ecs.random_range(5, W - 5)
            bubble.popped += 1


def on_load():
    # Runs once, after the top level of this script.
    print(f"hello from Python: {ecs.count(['Position'])} entities in the tank")
