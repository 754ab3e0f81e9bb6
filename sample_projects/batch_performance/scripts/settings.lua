-- Tunables shared by the Lua scripts (loaded with require("settings")).
-- The Python script reads what it needs from the Config entity instead.
return {
  -- The way that moves the particles when the project opens. Switch it
  -- live in the Inspector (Config › Mode › way); this is only the start.
  start_way = 1,

  -- One tag component per way: a particle is moved by the system whose
  -- query names the tag it carries. ways[Mode.way] is the active one.
  ways = { "LuaPerEntity", "LuaBatch", "PythonBatch" },
  labels = { "Lua per-entity system", "Lua batch system", "Python batch system" },

  count = 20000,   -- particles
  speed = 30,      -- units per second along the orbit (Config › Flow › speed)
  inner = 15,      -- the disc: particles orbit (0, 0) between these radii
  outer = 300,
  arms = 3,        -- spiral arms at the start; the inner orbits are faster, so they wind up
  check_every = 300, -- frames between two checks against the exact orbit (check.lua)
}
