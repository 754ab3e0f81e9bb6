-- Moves every swarm by its velocity. These systems write Position, so
-- they cannot run at the same time as a `think` that reads it; they are
-- cheap, and run after all the thinking.
for _, kind in ipairs({ "Fish", "Bird", "Ant", "Bee" }) do
  ecs.batch_system("move " .. kind, { "Position", kind }, function(view, dt)
    local px, py = view.Position.x, view.Position.y
    local vx, vy = view[kind].vx, view[kind].vy
    for i = 0, view.n - 1 do
      px[i] = px[i] + vx[i] * dt
      py[i] = py[i] + vy[i] * dt
    end
  end, { reads = { kind } })
end
