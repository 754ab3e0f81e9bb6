"""intruder.py: the intruder and the director, as Python generators.

A coroutine here is a generator function: `yield` waits one frame,
`yield ecs.wait_seconds(2)` waits two seconds, and
`payload = yield ecs.wait_event("name")` waits for an event. `yield from`
runs another generator as a step of this one, so the debugger shows both
frames in the intruder's call stack.
"""
import math

import ecs

ecs.component("Intruder", {"speed": 14.0, "hidden": False, "spot": 0})

HIDING_SPOTS = [(5, 60), (95, 20), (70, 95), (30, 25), (85, 50)]


def walk_to(id, x, y, speed):
    """Walks towards (x, y), one step a frame; returns once there."""
    while True:
        pos = ecs.get(id, "Position")
        dx, dy = x - pos["x"], y - pos["y"]
        distance = math.hypot(dx, dy)
        if distance < 0.5:
            return
        step = min(distance, speed * ecs.dt())
        ecs.set(id, "Position", {"x": pos["x"] + dx / distance * step, "y": pos["y"] + dy / distance * step})
        ecs.set(id, "Rotation", {"angle": math.atan2(dy, dx)})
        yield


def sneak(id):
    spot = 0
    while True:
        ecs.set(id, "Intruder", {"hidden": False, "spot": spot})
        ecs.set(id, "Color", {"r": 1.0, "g": 0.85, "b": 0.2})
        x, y = HIDING_SPOTS[spot]
        yield from walk_to(id, x, y, ecs.get(id, "Intruder")["speed"])
        # Hidden: the guards cannot see it here.
        ecs.set(id, "Intruder", {"hidden": True, "spot": spot})
        ecs.set(id, "Color", {"r": 0.45, "g": 0.4, "b": 0.2})
        yield ecs.wait_seconds(2.5)
        spot = (spot + 1 + ecs.frame() % 2) % len(HIDING_SPOTS)


def director():
    """Lets the guards settle, sends the intruder in, then keeps score."""
    yield ecs.wait_seconds(2.0)
    intruder = ecs.spawn({
        "Name": "intruder",
        "Intruder": {},
        "Position": {"x": 50.0, "y": 50.0},
        "Rotation": {},
        "Shape": {"kind": "circle", "size": 3.5},
        "Color": {"r": 1.0, "g": 0.85, "b": 0.2},
    })
    ecs.start("intruder", sneak, intruder)
    sightings = 0
    while True:
        seen = yield ecs.wait_event("intruder_seen")
        sightings += 1
        guard = ecs.get(seen["guard"], "Name")
        print(f"{guard} saw the intruder at ({seen['x']:.0f}, {seen['y']:.0f}); sighting {sightings}")


ecs.start("director", director)
