import ecs

ecs.component("PyComp", {"level": 3, "name": "py"})


@ecs.on("from_lua")
def got(p):
    print("py got", p["i"], type(p["i"]).__name__, p["f"], type(p["f"]).__name__,
          p["b"], p["s"], p["list"], ecs.frame())


@ecs.system("py_sys", ["Shared"])
def py_sys(id, s, dt):
    s.ratio = s.ratio + 0.25
    if ecs.frame() == 0:
        ecs.emit("from_py", {"i": 41, "f": 1.25, "b": True, "s": "hi", "list": [1, 2.5], "map": {"k": "v"}})
        ecs.spawn({"PyComp": {"level": 7}, "Name": "made by python"})
