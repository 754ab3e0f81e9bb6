-- palette.lua: the garden's colours, a module that garden.lua loads with
-- require. Saving this file reloads every script that requires it.
--
-- Try: heart = { r = 0.95, g = 0.35, b = 0.20 }
return {
  heart = { r = 0.98, g = 0.80, b = 0.25 },
  inner = { r = 0.95, g = 0.45, b = 0.60 },   -- petals near the start of the ring
  outer = { r = 0.60, g = 0.40, b = 0.95 },   -- ...blending into this one
}
