"""Way 3: a Python batch system, with numpy when it is installed.

One call per frame with the particles' columns as arrays. A Python
per-entity system would cost about 500 ns a particle just in calls (10 ms a
frame here before any arithmetic), so for this much arithmetic Python
needs a batch system:

* With numpy, `np.asarray(view.Position.x)` wraps the array without a
  copy (the arrays speak the buffer protocol, float64), and each line below
  runs over all 20,000 rows in C.
* Without numpy, the same view works with plain indexing: `px[i]`,
  `px[i] = value`. It is correct and readable, and slow: every index is a
  Python operation.

Python's arrays are always the runtime's copies of the world's columns,
moved in before the call and written back after it returns.
"""
import math

import ecs

# Set to False and save (Ctrl+S) to time the plain-indexing loop even when
# numpy is installed; the script is hot-reloaded and the next frame uses it.
USE_NUMPY = True

try:
    import numpy as np
except ImportError:  # numpy is optional: fall back to plain indexing
    np = None  # type: ignore[assignment]

CONFIG = next(iter([id for id, _ in ecs.query(["Flow"])]))


def orbit_numpy(view, speed, dt):
    x = np.asarray(view.Position.x)  # views of the batch arrays, not copies
    y = np.asarray(view.Position.y)
    vx = np.asarray(view.Velocity.x)
    vy = np.asarray(view.Velocity.y)
    # The same arithmetic, in the same order, as the Lua ways; each line
    # works on whole columns at once.
    r = np.sqrt(x * x + y * y)
    np.maximum(r, 1.0, out=r)  # a particle dragged onto the centre
    a = speed / r * dt
    c = np.cos(a)
    s = np.sin(a)
    nx = c * x - s * y
    ny = s * x + c * y
    # Assign into the arrays ([:] =); `vx = ...` would only rebind the
    # local name and the world would never see it.
    vx[:] = (nx - x) / dt
    vy[:] = (ny - y) / dt
    x[:] = nx
    y[:] = ny


def orbit_plain(view, speed, dt):
    px, py = view.Position.x, view.Position.y
    vx, vy = view.Velocity.x, view.Velocity.y
    sqrt, cos, sin = math.sqrt, math.cos, math.sin  # locals are faster to look up
    for i in range(view.n):
        x = px[i]
        y = py[i]
        r = sqrt(x * x + y * y)
        if r < 1.0:
            r = 1.0
        a = speed / r * dt
        c = cos(a)
        s = sin(a)
        nx = c * x - s * y
        ny = s * x + c * y
        vx[i] = (nx - x) / dt
        vy[i] = (ny - y) / dt
        px[i] = nx
        py[i] = ny


# The PythonBatch tag selects the rows: switch.lua gives it to the
# particles only while Mode.way is 3.
@ecs.batch_system("orbit", ["Position", "Velocity", "PythonBatch"])
def orbit(view, dt):
    if view.n == 0:
        return
    speed = ecs.get(CONFIG, "Flow")["speed"]  # once per frame
    if np is not None and USE_NUMPY:
        orbit_numpy(view, speed, dt)
    else:
        orbit_plain(view, speed, dt)


def on_load():
    if np is None:
        print("numpy is not installed: way 3 uses plain indexing "
              "(pip install numpy, then press Reset, to compare)")
    elif USE_NUMPY:
        print(f"numpy {np.__version__}: way 3 uses numpy")
    else:
        print("USE_NUMPY = False: way 3 uses plain indexing")


def on_reload(persist):
    on_load()
