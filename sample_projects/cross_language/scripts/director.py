"""director.py: the Python half. It spawns a wave of drones every few
seconds, with the Drone component that flight.lua declared, and keeps score
from the events Lua sends back."""
import math

import ecs

WAVE_EVERY = 4.0  # seconds
PALETTE = [(0.35, 0.75, 1.0), (1.0, 0.55, 0.25), (0.55, 0.95, 0.45), (0.9, 0.45, 0.95)]

ecs.persist.setdefault("escaped", 0)
ecs.persist.setdefault("waves", 0)


def spawn_wave():
    number = ecs.persist["waves"] + 1
    ecs.persist["waves"] = number
    count = 5 + number % 4
    r, g, b = PALETTE[number % len(PALETTE)]
    for i in range(count):
        ecs.spawn({
            "Name": f"drone-{number}.{i + 1}",
            "Position": {"x": -10.0 - i * 6, "y": 10 + i * 11.0},
            "Rotation": {"angle": 0.0},
            "Shape": {"kind": "triangle", "size": 3.5},
            "Color": {"r": r, "g": g, "b": b},
            # A Lua-declared component from Python: ints stay ints.
            "Drone": {
                "speed": 18.0 + ecs.random_range(0, 14),
                "wave": number,
                "wobble": ecs.random_range(0, 2 * math.pi),
                "label": f"wave {number}",
            },
        })
    # A dict payload: Lua reads wave.number, wave.color[1] ...
    ecs.emit("wave_started", {
        "number": number,
        "count": count,
        "color": [r, g, b],
        "leader": f"drone-{number}.1",
    })


@ecs.system("director")
def director(dt):
    # ecs.frame() * dt: a new wave every WAVE_EVERY seconds of simulated time.
    if ecs.frame() % round(WAVE_EVERY / ecs.dt()) == 0:
        spawn_wave()


@ecs.on("drone_escaped")
def escaped(event):
    ecs.persist["escaped"] += 1
    x, y = event["at"]
    print(
        f"{event['label']}: drone {event['id']} escaped at ({x:.0f}, {y:.0f}), "
        f"t = {event['time']:.2f} s; {ecs.persist['escaped']} escaped so far"
    )


def on_load():
    print(f"director ready: Python {__import__('sys').version.split()[0]}, "
          f"{ecs.count(['Drone'])} drones so far")
