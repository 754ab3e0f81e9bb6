"""keeper.py: a second Python script.

Every Python script shares one interpreter but is its own module: keeper.py
cannot see tank.py's W, H or functions, and has its own ecs.persist. What
the scripts share is the world (entities and components) and events."""
import ecs

# 6. ecs.persist is a dict this script keeps for the whole run (and, later,
#    across hot reloads of this script). setdefault keeps an existing value.
ecs.persist.setdefault("turns", 0)
ecs.persist.setdefault("grown", 0)

BIGGEST = 8.0


@ecs.on("turned")                     # or ecs.on("turned", on_turned)
def on_turned(event):
    ecs.persist["turns"] += 1
    fish_id = event["id"]

    # ecs.get returns a plain dict, a copy: changing it changes nothing in
    # the world until ecs.set writes it back. Here every third turn of a
    # fish makes it grow a little.
    if event["turns"] % 3 == 0:
        shape = ecs.get(fish_id, "Shape")
        if shape["size"] < BIGGEST:
            shape["size"] = min(shape["size"] + 0.5, BIGGEST)
            ecs.set(fish_id, "Shape", shape)
            ecs.persist["grown"] += 1

    if ecs.persist["turns"] % 10 == 0:
        name = ecs.get(fish_id, "Name")       # Name is a plain string
        print(f"{ecs.persist['turns']} turns so far; {name} has turned "
              f"{event['turns']} times (frame {ecs.frame()})")


# Once per frame; every 600 frames (10 s) it takes stock with ecs.count and
# a query that skips anything with a Velocity.
@ecs.system("report")
def report(dt):
    if ecs.frame() % 600 == 0:
        fish = ecs.count(["Fish"])
        popped = sum(b["popped"] for _, b in ecs.query(["Bubble"]))
        still = sum(1 for _ in ecs.query(["Position"], without=["Velocity"]))
        print(f"t = {ecs.time():.1f} s: {fish} fish, {popped} bubbles popped, "
              f"{still} still, {ecs.persist['grown']} growth spurts")


def on_load():
    print(f"keeper ready: {ecs.count(['Fish'])} fish to watch")
