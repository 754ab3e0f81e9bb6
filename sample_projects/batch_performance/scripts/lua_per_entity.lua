-- Way 1: a Lua per-entity system.
--
-- The simplest way to write it: a function of one particle's live
-- components, called once per particle per frame. Reading and writing
-- pos.x goes straight to the world's storage, but every particle is one
-- call from the host into Lua, with its components handed over: about
-- 30-45 ns each before any of the arithmetic. For a few thousand entities,
-- or for logic that touches a few fields, that is nothing. For 20,000
-- particles every frame it is the biggest cost in the frame.
local sqrt, cos, sin = math.sqrt, math.cos, math.sin

local CONFIG
for id in ecs.query({ "Flow" }) do CONFIG = id end

-- Read the Config once a frame, in a per-frame system registered before
-- the per-entity one. Calling ecs.get inside the per-entity function
-- would be 20,000 calls into the host a frame for the same number.
local speed = 0
ecs.system("read_flow", function(dt)
  speed = ecs.get(CONFIG, "Flow").speed
end)

-- The LuaPerEntity tag in the query is the switch: switch.lua gives it to
-- the particles only while Mode.way is 1. The tag's live value (`_tag`)
-- comes along as an argument like any other component; it has no fields.
ecs.system("orbit", { "Position", "Velocity", "LuaPerEntity" }, function(id, pos, vel, _tag, dt)
  -- Turn the point around (0, 0) by the angle that covers `speed * dt`
  -- along its circle. The same arithmetic, in the same order, is in
  -- lua_batch.lua and python_batch.py, so all three give the same numbers.
  local x, y = pos.x, pos.y
  local r = sqrt(x * x + y * y)
  if r < 1 then r = 1 end           -- a particle dragged onto the centre
  local a = speed / r * dt
  local c, s = cos(a), sin(a)
  local nx, ny = c * x - s * y, s * x + c * y
  vel.x, vel.y = (nx - x) / dt, (ny - y) / dt
  pos.x, pos.y = nx, ny
end)
