-- The Lua sandbox, applied to every script's state before its code runs.
--
-- Always: os.exit would end ECScope itself, so it is an error. Sandboxed
-- (the default, and always for a restricted project): no processes, no
-- environment, no files outside the project folder, no native libraries,
-- no precompiled bytecode. Each denied call is an error at the script's
-- line and is also reported to the host, so a script that catches the
-- error with pcall is still seen trying.
local sandboxed, resolve, report = ...
local error, type, format = error, type, string.format

local HOW = "a trusted project can lift the sandbox with [sandbox] lua = false in ecscope.toml"

local function deny(name, why)
  return function()
    local message = format("%s is not allowed: %s", name, why)
    report(name)
    error(message, 2)
  end
end

os.exit = deny("os.exit", "it would end ECScope; return from the function instead")
if not sandboxed then return end

local PROCESS = "Lua scripts run sandboxed and cannot start processes or change the system (" .. HOW .. ")"
for _, name in ipairs({ "execute", "remove", "rename", "tmpname", "getenv", "setlocale" }) do
  os[name] = deny("os." .. name, PROCESS)
end
io.popen = deny("io.popen", PROCESS)
package.loadlib = deny("package.loadlib", "native libraries cannot be loaded in the sandbox (" .. HOW .. ")")

-- Modules come from the project (the runtime's own searcher, slot 2) or
-- package.preload; the path and C searchers could load code from anywhere.
package.path, package.cpath = "", ""
local loaders = package.loaders
for i = #loaders, 3, -1 do loaders[i] = nil end

-- A path inside the project, or an error naming the call and the path.
local function inside(name, path)
  if type(path) ~= "string" then return path end
  local resolved, problem = resolve(path)
  if not resolved then
    report(name)
    error(format("%s(%q): %s (%s)", name, path, problem, HOW), 3)
  end
  return resolved
end

local open, lines, input, output = io.open, io.lines, io.input, io.output
function io.open(path, mode) return open(inside("io.open", path), mode) end
function io.lines(path, ...)
  if path == nil then return lines() end
  return lines(inside("io.lines", path), ...)
end
function io.input(file) return input(inside("io.input", file)) end
function io.output(file) return output(inside("io.output", file)) end

-- Text only: bytecode can break the VM's safety checks.
local raw_load, raw_loadstring, raw_loadfile = load, loadstring, loadfile
local BYTECODE = "precompiled bytecode cannot be loaded in the sandbox (" .. HOW .. ")"
local function text_only(name, chunk)
  if type(chunk) == "string" and chunk:byte(1) == 27 then
    report(name)
    error(format("%s: %s", name, BYTECODE), 3)
  end
end
function loadstring(chunk, chunkname)
  text_only("loadstring", chunk)
  return raw_loadstring(chunk, chunkname)
end
function load(chunk, chunkname, mode, env)
  text_only("load", chunk)
  return raw_load(chunk, chunkname, "t", env)
end
function loadfile(path, mode, env)
  return raw_loadfile(inside("loadfile", path), "t", env)
end
function dofile(path)
  local f = assert(raw_loadfile(inside("dofile", path), "t"))
  return f()
end
