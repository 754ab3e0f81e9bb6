-- Keeps running while the others misbehave.
ecs.system("alive", function()
  if ecs.frame() % 10 == 9 then print("canary alive at frame " .. ecs.frame()) end
end)
