"""bees.py: bees flying around the flower, in Python. Like garden.lua, the
look and the flight path are constants and a function meant to be edited
while the project runs; ecs.persist keeps the bees and the distance flown
across reloads, so an edit changes the path without a jump back to the
start."""
import math

import ecs

# Try: BEES = 8, SPEED = 0.6, COLOR = (0.4, 0.8, 1.0)
BEES = 4
SPEED = 0.25        # laps per second
COLOR = (1.0, 0.85, 0.2)
SIZE = 3.0


def flight(a, i):
    """Where a bee is, relative to the flower's heart, at angle `a` of its
    lap (bee i).

    Try a figure eight:  return 38 * math.sin(a), 18 * math.sin(2 * a)
    """
    return 38 * math.cos(a), 22 * math.sin(a)


CX, CY = 50.0, 30.0

ecs.component("Bee", {"index": 0})

ecs.persist.setdefault("bees", [])
ecs.persist.setdefault("flown", 0.0)  # radians along the lap
ecs.persist.setdefault("laps", 0)


def sync():
    """Spawns or despawns bees until there are BEES, and restyles them."""
    bees = ecs.persist["bees"]
    while len(bees) < BEES:
        i = len(bees)
        bees.append(ecs.spawn({
            "Name": f"bee-{i + 1}",
            "Position": {"x": CX, "y": CY},
            "Rotation": {"angle": 0.0},
            "Bee": {"index": i},
        }))
    while len(bees) > BEES:
        ecs.despawn(bees.pop())
    r, g, b = COLOR
    for id in bees:
        ecs.set(id, "Shape", {"kind": "triangle", "size": SIZE})
        ecs.set(id, "Color", {"r": r, "g": g, "b": b})


sync()


def advance(dt):
    before = ecs.persist["flown"]
    after = before + SPEED * 2 * math.pi * dt
    ecs.persist["flown"] = after
    if int(after / (2 * math.pi)) > int(before / (2 * math.pi)):
        ecs.persist["laps"] += 1
        print(f"bees: lap {ecs.persist['laps']}")


def fly(id, pos, rot, bee, dt):
    a = ecs.persist["flown"] + 2 * math.pi * bee.index / max(BEES, 1)
    x, y = flight(a, bee.index)
    # Face the way the bee moves: towards where it will be a moment later.
    nx, ny = flight(a + 0.01, bee.index)
    pos.x, pos.y = CX + x, CY + y
    rot.angle = math.atan2(ny - y, nx - x)


ecs.system("advance", advance)
ecs.system("fly", ["Position", "Rotation", "Bee"], fly)


def on_reload(persist):
    print(f"bees: reloaded with {len(persist['bees'])} bees after {persist['laps']} laps")
