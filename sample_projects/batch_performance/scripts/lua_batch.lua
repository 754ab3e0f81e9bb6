-- Way 2: a Lua batch system.
--
-- One call per frame instead of one per particle. The function gets a
-- view: view.n rows, and one array of doubles per numeric field
-- (view.Position.x, view.Velocity.y, ...), indexed 0 .. view.n - 1 like
-- C arrays. A plain loop over them is what LuaJIT compiles best: each
-- access is an index check and a load, with no call in between.
--
-- Things to know:
--   * The rows come in storage order, not id order. view.ids[i] is the
--     entity of row i (check.lua uses it); this system does not need it.
--   * Position and Velocity are ECScope's own components (the LuaBatch
--     tag has no fields, so it brings no arrays) and all the particles
--     share one storage table, so these arrays are the world's storage
--     itself. For fields of script components the runtime copies columns
--     in before the call and back after it.
--   * What the loop writes reaches the world when the function returns.
local sqrt, cos, sin = math.sqrt, math.cos, math.sin

local CONFIG
for id in ecs.query({ "Flow" }) do CONFIG = id end

-- The LuaBatch tag selects the rows: switch.lua gives it to the particles
-- only while Mode.way is 2, and otherwise view.n is 0.
ecs.batch_system("orbit", { "Position", "Velocity", "LuaBatch" }, function(view, dt)
  if view.n == 0 then return end
  local speed = ecs.get(CONFIG, "Flow").speed   -- once per frame, not per particle
  local px, py = view.Position.x, view.Position.y
  local vx, vy = view.Velocity.x, view.Velocity.y
  for i = 0, view.n - 1 do
    -- The same arithmetic as lua_per_entity.lua, row by row.
    local x, y = px[i], py[i]
    local r = sqrt(x * x + y * y)
    if r < 1 then r = 1 end
    local a = speed / r * dt
    local c, s = cos(a), sin(a)
    local nx, ny = c * x - s * y, s * x + c * y
    vx[i], vy[i] = (nx - x) / dt, (ny - y) / dt
    px[i], py[i] = nx, ny
  end
end)
