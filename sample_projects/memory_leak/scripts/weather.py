"""weather.py: a wind that changes every few seconds, in Python. It builds
a small dict every frame and keeps only the latest: no leak, so the leak
detector stays quiet about it."""
import math

import ecs

ecs.persist.setdefault("wind", {"x": 0.0, "y": 0.0})


@ecs.system("wind")
def wind(dt):
    t = ecs.time()
    # A new dict each frame; the old one is freed at once.
    ecs.persist["wind"] = {"x": math.cos(t * 0.3) * 2.0, "y": math.sin(t * 0.2) * 1.0}


@ecs.system("blow", ["Velocity", "Firefly"])
def blow(id, vel, fly, dt):
    w = ecs.persist["wind"]
    vel.x += w["x"] * dt
    vel.y += w["y"] * dt
