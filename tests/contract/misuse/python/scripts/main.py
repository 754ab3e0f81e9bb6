"""Each misuse of the ecs API is caught and its message logged: the same
messages as in Lua, in Python's words for its types (tests/contract.rs
compares them)."""
import ecs


def attempt(label, f, *args):
    try:
        f(*args)
        message = "no error"
    except Exception as e:
        message = str(e)
    print(label, message)


ecs.component("Health", {"hp": 1})
gone = ecs.spawn({})
ecs.despawn(gone)

attempt("spawn a number:", ecs.spawn, 5)
attempt("spawn an unknown component:", ecs.spawn, {"Nope": {}})
attempt("spawn a string field:", ecs.spawn, {"Position": {"x": "far"}})
attempt("spawn an unknown field:", ecs.spawn, {"Position": {"z": 1}})
attempt("spawn a bad shape:", ecs.spawn, {"Shape": {"kind": "hexagon"}})
attempt("get with a string id:", ecs.get, "one", "Position")
attempt("get with a negative id:", ecs.get, -1, "Position")
attempt("get an unknown component:", ecs.get, 0, "Nope")
attempt("set a despawned entity:", ecs.set, gone, "Position", {})
attempt("set a missing entity:", ecs.set, 99, "Position", {})
attempt("declare again differently:", ecs.component, "Health", {"hp": "x"})
attempt("query a number:", ecs.query, 42)
attempt("query an unknown component:", ecs.query, ["Nope"])
attempt("count a number:", ecs.count, 42)
attempt("system without a function:", ecs.system, "s", 3)
attempt("emit a function:", ecs.emit, "e", lambda: 0)
attempt("emit without a name:", ecs.emit, 5)
attempt("wait outside a coroutine:", ecs.wait_frames, 1)
attempt("stop a missing coroutine:", ecs.stop, 99)
attempt("start a number:", ecs.start, "c", 42)
attempt("remove an unknown component:", ecs.remove, 0, "Nope")
attempt("has with a string id:", ecs.has, "one", "Position")
