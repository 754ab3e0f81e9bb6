"""scoreboard.py: counts arrivals, in Python. An event handler that runs
a few times a frame: cheap, and you can see exactly how cheap in the
statistics (calls and µs per call)."""
import ecs

ecs.persist.setdefault("arrivals", 0)


@ecs.on("arrived")
def arrived(event):
    ecs.persist["arrivals"] += 1


@ecs.system("report")
def report(dt):
    if ecs.frame() % 300 == 299:
        print(f"{ecs.persist['arrivals']} arrivals so far")
