-- Each misuse of the ecs API is caught and its message logged. Python
-- gets the same messages, in its own words for its types
-- (tests/contract.rs compares them).
local function try(label, f, ...)
  local ok, err = pcall(f, ...)
  local message = "no error"
  if not ok then
    -- The first line, without what Lua puts before it.
    message = tostring(err):match("^[^\n]*")
    message = message:gsub("^runtime error: ", ""):gsub("^[%w_/%.]+:%d+: ", "")
  end
  print(label, message)
end

ecs.component("Health", { hp = 1 })
local gone = ecs.spawn({})
ecs.despawn(gone)

try("spawn a number:", ecs.spawn, 5)
try("spawn an unknown component:", ecs.spawn, { Nope = {} })
try("spawn a string field:", ecs.spawn, { Position = { x = "far" } })
try("spawn an unknown field:", ecs.spawn, { Position = { z = 1 } })
try("spawn a bad shape:", ecs.spawn, { Shape = { kind = "hexagon" } })
try("get with a string id:", ecs.get, "one", "Position")
try("get with a negative id:", ecs.get, -1, "Position")
try("get an unknown component:", ecs.get, 0, "Nope")
try("set a despawned entity:", ecs.set, gone, "Position", {})
try("set a missing entity:", ecs.set, 99, "Position", {})
try("declare again differently:", ecs.component, "Health", { hp = "x" })
try("query a number:", ecs.query, 42)
try("query an unknown component:", ecs.query, { "Nope" })
try("count a number:", ecs.count, 42)
try("system without a function:", ecs.system, "s", 3)
try("emit a function:", ecs.emit, "e", function() end)
try("emit without a name:", ecs.emit, 5)
try("wait outside a coroutine:", ecs.wait_frames, 1)
try("stop a missing coroutine:", ecs.stop, 99)
try("start a number:", ecs.start, "c", 42)
try("remove an unknown component:", ecs.remove, 0, "Nope")
try("has with a string id:", ecs.has, "one", "Position")
