-- nvim-dap: the ECScope debug adapter, for Lua and Python scripts at once.
-- Load it from your config once nvim-dap is installed:
--   dofile("/path/to/ecscope/editors/nvim/ecscope.lua")
-- or copy it in. `ecscope` must be on PATH (or change `command` below).
local dap = require("dap")

dap.adapters.ecscope = function(callback, config)
  if config.request == "attach" then
    -- `ecscope run DIR --dap 127.0.0.1:4711`, or the window's
    -- Debug > Listen for an editor...
    callback({ type = "server", host = config.host or "127.0.0.1", port = config.port or 4711 })
  else
    callback({ type = "executable", command = "ecscope", args = { "dap" } })
  end
end

local configurations = {
  {
    type = "ecscope",
    request = "launch",
    name = "ECScope: run the project",
    project = "${workspaceFolder}",
    realtime = true,
  },
  {
    type = "ecscope",
    request = "attach",
    name = "ECScope: attach",
    port = 4711,
  },
}

-- The same choices from a Lua or a Python script.
for _, language in ipairs({ "lua", "python" }) do
  dap.configurations[language] = dap.configurations[language] or {}
  for _, c in ipairs(configurations) do
    table.insert(dap.configurations[language], c)
  end
end

return configurations
