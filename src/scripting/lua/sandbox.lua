-- The Lua sandbox, applied to every script's state before its code runs.
--
-- Always: os.exit would end ECScope itself, so it is an error; loading is
-- text only, since crafted bytecode can break the VM's safety checks; the
-- JIT's internals (`jit.util`, `jit.attach`...) and `newproxy` (whose
-- `__gc` runs with every hook off, so a loop in it could never be stopped)
-- are gone. Sandboxed (the default, and always for a restricted project):
-- no processes, no environment, no files outside the project folder, no
-- writes to the manifest or to ECScope's own `.ecscope/` folder, no native
-- libraries. Each denied call is an error at the script's line and is
-- also reported to the host, so a script that catches the error with
-- pcall is still seen trying.
--
-- Everything used after load is captured here first: scripts can replace
-- globals and string methods, and must never be called in their place.
local sandboxed, resolve, report = ...
local error, type, format, byte, find = error, type, string.format, string.byte, string.find
local tostring, concat = tostring, table.concat
local raw_load = load

local HOW = "a trusted project can lift the sandbox with [sandbox] lua = false in ecscope.toml"

local function deny(name, why)
  return function()
    local message = format("%s is not allowed: %s", name, why)
    report(name)
    error(message, 2)
  end
end

os.exit = deny("os.exit", "it would end ECScope; return from the function instead")

-- Text only: bytecode can break the VM's safety checks. `load` with mode
-- "t" refuses bytecode from strings and reader functions alike.
local BYTECODE = "precompiled bytecode cannot be loaded; load Lua source text instead"
local function text_only(name, chunk, chunkname, env)
  -- A reader function runs here, as ordinary Lua, and its pieces are
  -- loaded as one string: run inside the parser (a protected C call), an
  -- instruction limit firing in it would leave the hook switched off.
  if type(chunk) == "function" then
    local pieces, reader = {}, chunk
    while true do
      local piece = reader()
      if piece == nil or piece == "" then break end
      if type(piece) ~= "string" then
        return nil, format("%s: a reader function must return strings, got %s", name, type(piece))
      end
      pieces[#pieces + 1] = piece
    end
    chunk = concat(pieces)
  end
  if type(chunk) == "string" and byte(chunk, 1) == 27 then
    report(name)
    return nil, format("%s: %s", name, BYTECODE)
  end
  local f, problem = raw_load(chunk, chunkname, "t", env)
  if not f and type(problem) == "string" and find(problem, "wrong mode", 1, true) then
    report(name)
    return nil, format("%s: %s", name, BYTECODE)
  end
  return f, problem
end
function loadstring(chunk, chunkname) return text_only("loadstring", chunk, chunkname) end
function load(chunk, chunkname, mode, env) return text_only("load", chunk, chunkname, env) end

-- Of `jit`, what changes nothing but speed or only tells.
do
  local keep = { on = true, off = true, flush = true, status = true, version = true,
                 version_num = true, os = true, arch = true }
  local names = {}
  for name in pairs(jit) do names[#names + 1] = name end
  for i = 1, #names do
    if not keep[names[i]] then jit[names[i]] = nil end
  end
  for _, name in ipairs({ "jit.util", "jit.profile", "jit.opt" }) do
    package.loaded[name] = nil
    package.preload[name] = nil
  end
end
newproxy = nil

local raw_loadfile = loadfile
if not sandboxed then
  function loadfile(path, mode, env) return raw_loadfile(path, "t", env) end
  function dofile(path)
    local f, problem = raw_loadfile(path, "t")
    if not f then error(problem, 2) end
    return f()
  end
  return
end

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
-- `writing` also refuses the manifest and `.ecscope/`, so a script cannot
-- change its own trust or the history.
local function inside(name, path, writing)
  -- A number is a file name to io.open and friends (`io.open(42)`).
  if type(path) == "number" then path = tostring(path) end
  if type(path) ~= "string" then return path end
  local resolved, problem = resolve(path, writing and true or false)
  if not resolved then
    report(name)
    error(format("%s(%q): %s (%s)", name, path, problem, HOW), 3)
  end
  return resolved
end

local function writes(mode)
  return type(mode) == "string" and (find(mode, "w", 1, true) or find(mode, "a", 1, true)
    or find(mode, "+", 1, true)) and true or false
end

local open, lines, input, output = io.open, io.lines, io.input, io.output
function io.open(path, mode) return open(inside("io.open", path, writes(mode)), mode) end
function io.lines(path, ...)
  if path == nil then return lines() end
  return lines(inside("io.lines", path), ...)
end
function io.input(file) return input(inside("io.input", file)) end
function io.output(file) return output(inside("io.output", file, true)) end

function loadfile(path, mode, env)
  return raw_loadfile(inside("loadfile", path), "t", env)
end
function dofile(path)
  local f, problem = raw_loadfile(inside("dofile", path), "t")
  if not f then error(problem, 2) end
  return f()
end
