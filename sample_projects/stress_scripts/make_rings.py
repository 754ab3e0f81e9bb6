"""Writes this sample's 1,000 scripts and its manifest. Run it from this
folder after changing the template: the scripts differ only in their
numbers."""

COUNT = 1000

TEMPLATE = '''-- Ring {i}: one of {count} small scripts, each with its own Lua state,
-- its own component type and its own system (written by make_rings.py).
local CX, CY, SPEED = {cx}, {cy}, {speed}
ecs.component("Ring{i:04d}", {{ phase = 0 }})
for k = 1, 10 do
  ecs.spawn({{
    Position = {{ x = CX, y = CY }},
    Shape = {{ kind = "circle", size = 2 }},
    Color = {{ r = {r}, g = 0.7, b = {b}, a = 1 }},
    Ring{i:04d} = {{ phase = k * math.pi / 5 }},
  }})
end

-- It declares what it touches: its own Ring under reads, so it writes
-- only Position. Every ring writes Position, so no two run at once.
ecs.system("ring", {{ "Position", "Ring{i:04d}" }}, function(id, pos, ring, dt)
  local a = ecs.time() * SPEED + ring.phase
  pos.x, pos.y = CX + math.cos(a) * 8, CY + math.sin(a) * 8
end, {{ reads = {{ "Ring{i:04d}" }} }})
'''

manifest = [
    "[project]",
    'name = "stress_scripts"',
    'description = "1,000 small scripts, each with its own Lua state, component and system"',
    "",
    "[world]",
    "fixed_dt = 0.016666667",
    "seed = 5",
    "",
]
for i in range(COUNT):
    manifest += ["[[script]]", f'path = "scripts/ring_{i:04d}.lua"', ""]
    col, row = i % 40, i // 40
    source = TEMPLATE.format(
        i=i, count=f"{COUNT:,}", cx=col * 25, cy=row * 25, speed=0.5 + (i % 7) * 0.25,
        r=round(0.3 + 0.7 * col / 39, 2), b=round(1.0 - 0.7 * row / 24, 2),
    )
    with open(f"scripts/ring_{i:04d}.lua", "w") as f:
        f.write(source)
with open("ecscope.toml", "w") as f:
    f.write("\n".join(manifest))
