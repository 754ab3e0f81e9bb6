-- Tries to get out: processes, files outside the project, native code,
-- bytecode, the environment, ending the host. Each attempt is caught so
-- the next one runs; the host reports every one.
local target = ECSCOPE_TARGET or "/tmp/ecscope-pwned"
local attempts = {
  function() return os.execute("touch " .. target) end,
  function() return io.popen("touch " .. target) end,
  function() return io.open(target, "w") end,
  function() return io.open("../../../../../../../" .. target, "w") end,
  function() return os.remove("ecscope.toml") end,
  function() return os.rename("ecscope.toml", "gone.toml") end,
  function() return package.loadlib("libc.so.6", "system") end,
  function() return assert(loadstring(string.dump(function() end))) end,
  function() return os.getenv("HOME") end,
  function() return dofile("/etc/passwd") end,
  function() os.exit(1) end,
}
for i, attempt in ipairs(attempts) do
  local ok, err = pcall(attempt)
  if ok then print("attempt " .. i .. " succeeded") end
end
