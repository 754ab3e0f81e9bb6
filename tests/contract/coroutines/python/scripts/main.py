import ecs


def d_loop():
    while True:
        print("d", ecs.frame())
        yield


d = ecs.start("d", d_loop)


def a(tag):
    print("a start", tag, ecs.frame())
    yield ecs.wait_frames(2)
    print("a after wait_frames(2)", ecs.frame())
    yield
    print("a after bare yield", ecs.frame())
    yield ecs.wait_seconds(0.5)
    print("a after wait_seconds(0.5)", ecs.frame(), ecs.time())
    p = yield ecs.wait_event("go")
    print("a got", p["n"], ecs.frame())


ecs.start("a", a, "tag1")


def c():
    print("c start", ecs.frame())
    return
    yield


def b():
    print("b start", ecs.frame())
    ecs.start("c", c)
    return
    yield


@ecs.system("sys")
def system(dt):
    f = ecs.frame()
    if f == 1:
        ecs.start("b", b)
    elif f == 4:
        print("stop d", ecs.stop(d), ecs.stop(d))
    elif f == 6:
        ecs.emit("go", {"n": 1})
