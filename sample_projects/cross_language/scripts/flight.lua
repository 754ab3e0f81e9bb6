-- flight.lua: the Lua half. It declares the Drone component (Python spawns
-- drones with it), flies every drone each frame, and tells Python when one
-- escapes off the right edge.

-- Declared in Lua, used from both languages: the field types come from the
-- defaults (speed is a number, wave an integer, label a string).
ecs.component("Drone", { speed = 20.0, wave = 0, wobble = 0.0, label = "" })

ecs.system("fly", { "Position", "Drone", "Rotation" }, function(id, pos, drone, rot, dt)
  local t = ecs.time()
  pos.x = pos.x + drone.speed * dt
  local dy = math.sin(t * 3 + drone.wobble) * 8 * dt
  pos.y = pos.y + dy
  rot.angle = math.atan2(dy, drone.speed * dt)
  if pos.x > 160 then
    -- A table payload: numbers, an integer, a string and a list cross into
    -- Python as a dict with float, int, str and list values.
    ecs.emit("drone_escaped", {
      id = id, wave = drone.wave, label = drone.label,
      at = { pos.x, pos.y }, time = t,
    })
    ecs.despawn(id)  -- deferred until this system ends
  end
end)

-- Python's event arrives here as a Lua table.
ecs.on("wave_started", function(wave)
  print(("Lua saw wave %d: %d drones, colour {%.2f, %.2f, %.2f}, leader %s")
    :format(wave.number, wave.count, wave.color[1], wave.color[2], wave.color[3], wave.leader))
end)
