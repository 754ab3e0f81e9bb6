-- ECScope's Lua prelude: runs in every script's state before the script.
--
-- Live components are LuaJIT FFI structs that point at the component's
-- numeric fields in the world's own storage, so `pos.x = pos.x + 1` is a
-- plain load and store once the JIT has compiled the loop. Each proxy
-- remembers the proxy generation it was made under; the host bumps the
-- generation whenever storage may move (the end of a system, a coroutine
-- step or a query loop), and a stale proxy raises an error instead of
-- touching freed memory. Fields that are not numbers go through the host.
--
-- Receives the host's private primitives `P`; returns the functions the
-- host calls back. Nothing here is visible to scripts except through `ecs`.
--
-- Every global this file uses is captured here, once, before any script
-- runs: a script may replace globals (`loadstring`, `string.sub`...), and
-- runtime code that looked them up later would call the script's function
-- with the runtime's arguments, among them `ffi.cast`.
local P = ...
local ffi = P.ffi
local ecs = ecs
local type, error, select, unpack, tostring, pairs = type, error, select, unpack, tostring, pairs
local ipairs, setmetatable, rawset, tonumber, assert = ipairs, setmetatable, rawset, tonumber, assert
local raw_pcall, raw_xpcall, loadstring, raw_load = pcall, xpcall, loadstring, load
local getfenv, setfenv, next, sort, traceback = getfenv, setfenv, next, table.sort, P.debug.traceback
local gsub, gmatch = string.gsub, string.gmatch
local on_error, on_error_co = P.on_error, P.on_error_co
local format, concat, find, sub = string.format, table.concat, string.find, string.sub
local floor = math.floor

local GEN = ffi.cast("const uint32_t *", P.generation)
local cast = ffi.cast
local DOUBLES, POINTERS = ffi.typeof("double *"), ffi.typeof("double **")

local proxy_types = {} -- component key -> ctype
local proxy_keys = {}  -- list of { ctype, key }

local function stale(s, name)
  error(format(
    "a live %s of entity %d was used after the system, coroutine step or query loop that handed it out ended; keep the entity id and use ecs.get/ecs.set instead",
    name, s.__ecscope_id), 3)
end

-- A live component's struct. Its fields are const and the pointer is a
-- void pointer, so a script can neither retarget a proxy nor index the
-- storage behind it; the names are unlikely to shadow a component field
-- (a field named like a struct field would be unreachable).
local PROXY_DECL =
  "struct { const void * const __ecscope_p; const double __ecscope_id; const uint32_t __ecscope_gen; }"

local read_only_types = {} -- component key -> ctype of proxies that refuse writes

-- `read_only`: a system lists the component under `reads`; assigning a
-- field is an error at the line (SCRIPT_API §5).
local function proxy_type(key, read_only)
  local cache = read_only and read_only_types or proxy_types
  local ct = cache[key]
  if ct then return ct end
  local layout = P.layout(key)
  local OFF, name = layout.offsets, layout.name
  local get_field, set_field = P.get_field, P.set_field
  local newindex = function(b, k, v)
    if b.__ecscope_gen ~= GEN[0] then stale(b, name) end
    local off = OFF[k]
    if off and type(v) == "number" then
      cast(DOUBLES, b.__ecscope_p)[off] = v
    else
      set_field(b.__ecscope_id, key, k, v)
    end
  end
  if read_only then
    newindex = function(b, k)
      error(format("this system lists %s under reads: it cannot assign %s.%s (list %s under writes)",
        name, name, tostring(k), name), 2)
    end
  end
  -- A new struct type per component, since each has its own metatable.
  ct = ffi.metatype(ffi.typeof(PROXY_DECL), {
    __index = function(b, k)
      if b.__ecscope_gen ~= GEN[0] then stale(b, name) end
      local off = OFF[k]
      if off then return cast(DOUBLES, b.__ecscope_p)[off] end
      return get_field(b.__ecscope_id, key, k)
    end,
    __newindex = newindex,
    __tostring = function(b)
      if b.__ecscope_gen ~= GEN[0] then return format("%s of entity %d (expired)", name, b.__ecscope_id) end
      return P.describe(b.__ecscope_id, key)
    end,
  })
  cache[key] = ct
  proxy_keys[#proxy_keys + 1] = { ct, key }
  return ct
end

-- A proxy as a plain value (a copy), for ecs.set/ecs.spawn/ecs.emit.
local function plain(v)
  if type(v) ~= "cdata" then return v end
  for i = 1, #proxy_keys do
    local entry = proxy_keys[i]
    if ffi.istype(entry[1], v) then
      if v.__ecscope_gen ~= GEN[0] then stale(v, P.layout(entry[2]).name) end
      return P.get_value(v.__ecscope_id, entry[2])
    end
  end
  return v
end

local function plain_table(t)
  if type(t) ~= "table" then return plain(t) end
  local copy
  for k, v in pairs(t) do
    if type(v) == "cdata" then
      copy = copy or {}
      copy[k] = plain(v)
    end
  end
  if not copy then return t end
  for k, v in pairs(t) do
    if copy[k] == nil then copy[k] = v end
  end
  return copy
end

local raw_set, raw_spawn, raw_emit = ecs.set, ecs.spawn, ecs.emit
function ecs.set(id, name, value) return raw_set(id, name, plain(value)) end
function ecs.spawn(components) return raw_spawn(plain_table(components)) end
function ecs.emit(event, payload) return raw_emit(event, plain_table(payload)) end

-- ecs.query(names, opts): for id, c1, c2, ... in ecs.query({...}) do
function ecs.query(names, opts)
  local n, ids, ptrs, keys, token, ro = P.query(names, opts)
  ids, ptrs = cast(DOUBLES, ids), cast(POINTERS, ptrs)
  local k = #keys
  local ctors = {}
  for j = 1, k do ctors[j] = proxy_type(keys[j], ro and ro[j]) end
  local c1, c2, c3 = ctors[1], ctors[2], ctors[3]
  local gen = GEN[0]
  local i, out = -1, {}
  return function()
    if i >= n then return nil end
    if gen ~= GEN[0] then
      error("a query loop was resumed after the system, coroutine step or handler that started it ended", 2)
    end
    i = i + 1
    if i >= n then
      P.query_done(token)
      return nil
    end
    local id, b = ids[i], i * k
    if k == 1 then return id, c1(ptrs[b], id, gen) end
    if k == 2 then return id, c1(ptrs[b], id, gen), c2(ptrs[b + 1], id, gen) end
    if k == 3 then
      return id, c1(ptrs[b], id, gen), c2(ptrs[b + 1], id, gen), c3(ptrs[b + 2], id, gen)
    end
    for j = 1, k do out[j] = ctors[j](ptrs[b + j - 1], id, gen) end
    return id, unpack(out, 1, k)
  end
end

-- The loop of a per-entity system, generated per system so the JIT records
-- one trace per system and can inline the system's function.
local function make_runner(fn, keys, read_only)
  local k = #keys
  local params, args = {}, {}
  for j = 1, k do
    params[j] = "C" .. j
    args[j] = format("C%d(ptrs[b + %d], id, gen)", j, j - 1)
  end
  local src = format([[
local fn, GEN, cast, DOUBLES, POINTERS, %s = ...
return function(n, ids, ptrs, dt)
  ids, ptrs = cast(DOUBLES, ids), cast(POINTERS, ptrs)
  local gen = GEN[0]
  for i = 0, n - 1 do
    local id, b = ids[i], i * %d
    fn(id, %s, dt)
  end
end]], concat(params, ", "), k, concat(args, ", "))
  local chunk = assert(loadstring(src, "=ecscope system loop"))
  local ctors = {}
  for j = 1, k do ctors[j] = proxy_type(keys[j], read_only and read_only[j]) end
  return chunk(fn, GEN, cast, DOUBLES, POINTERS, unpack(ctors, 1, k))
end

-- Batch systems -------------------------------------------------------------
--
-- A batch view's arrays are FFI structs over the host's numbers: either the
-- world's storage itself (element i at p[i * stride]) or gathered copies
-- (stride 1). Reading or writing element i checks the view is still the
-- current system's (the proxy generation) and that 0 <= i < n, then is a
-- plain load or store; the JIT compiles the checks into a compare each. A
-- write marks the array changed, so only changed copies go back to the
-- world. Ids are doubles when copied and the storage's 64-bit integers in
-- place; either way a read gives a Lua number.
local BYTES = ffi.typeof("uint8_t *")
local INTS = ffi.typeof("const int32_t *")
local column_names = {}

local function column_name(c) return column_names[c.name] or "?" end

-- The slow paths, out of the compiled loops: say what was wrong.
local function bad_use(c, i, v, writing)
  if c.gen ~= GEN[0] then
    error(format("view.%s was used after its batch system returned; a view is valid only during the call", column_name(c)), 3)
  end
  if writing and c.readonly ~= 0 then error(format("view.%s is read-only", column_name(c)), 3) end
  if type(i) ~= "number" then
    error(format("view.%s[%s]: arrays are indexed by number (0 to view.n - 1)", column_name(c), tostring(i)), 3)
  end
  if writing and type(v) ~= "number" then
    error(format("view.%s[%s] = %s: batch arrays hold numbers only", column_name(c), tostring(i), type(v)), 3)
  end
  if floor(i) ~= i and i == i then
    error(format("view.%s[%s]: arrays are indexed by whole numbers (0 to view.n - 1)", column_name(c), tostring(i)), 3)
  end
  error(format("view.%s[%s]: index out of range (view.n = %d, indices 0 to %d)", column_name(c), tostring(i), c.n, c.n - 1), 3)
end

-- The struct behind a batch array. Scripts see every field read-only and
-- the pointers as void pointers, so they cannot widen n, revive an old
-- view or index the storage directly; the runner refills the fields
-- through WRITABLE, the same layout without const.
local COLUMN_DECL = "struct { const void * const p; const void * const dirty; const int32_t n; const int32_t stride; const uint32_t gen; const int32_t name; const int32_t readonly; }"
local WRITABLE = ffi.typeof("struct { void *p; void *dirty; int32_t n; int32_t stride; uint32_t gen; int32_t name; int32_t readonly; } *")

local function column_type(element)
  local ELEMENTS = ffi.typeof(element .. " *")
  return ffi.metatype(ffi.typeof(COLUMN_DECL), {
    __index = function(c, i)
      if type(i) == "number" and c.gen == GEN[0] and i >= 0 and i < c.n and floor(i) == i then
        return tonumber(cast(ELEMENTS, c.p)[i * c.stride])
      end
      bad_use(c, i)
    end,
    __newindex = function(c, i, v)
      if type(i) == "number" and type(v) == "number" and c.gen == GEN[0] and c.readonly == 0
          and i >= 0 and i < c.n and floor(i) == i then
        cast(ELEMENTS, c.p)[i * c.stride] = v
        cast(BYTES, c.dirty)[0] = 1
        return
      end
      bad_use(c, i, v, true)
    end,
    __len = function(c) return c.n end,
    __tostring = function(c) return format("batch array view.%s (%d numbers)", column_name(c), c.n) end,
  })
end
local COLUMN, ID_COLUMN = column_type("double"), column_type("uint64_t")

local function new_column(ctype, name, readonly)
  column_names[#column_names + 1] = name
  return ctype(nil, nil, 0, 1, 0, #column_names, readonly and 1 or 0)
end

-- The wrapper of a batch system: builds the view once (its arrays' structs
-- are refilled for each call), then calls fn(view, dt).
local function make_batch_runner(fn, keys, read_only)
  local cols, view, names = {}, {}, {}
  for j, key in ipairs(keys) do
    local locked = read_only and read_only[j]
    local layout = P.layout(key)
    local cname = layout.name
    names[#names + 1] = cname
    local by_offset, count = {}, 0
    for field, off in pairs(layout.offsets) do
      by_offset[off] = field
      count = count + 1
    end
    -- The arrays live behind __index so that assigning view.C.f fails
    -- rather than replacing an array for good.
    local arrays, others = {}, layout.others
    for off = 0, count - 1 do
      local c = new_column(COLUMN, cname .. "." .. by_offset[off], locked)
      cols[#cols + 1] = c
      arrays[by_offset[off]] = c
    end
    view[cname] = setmetatable({}, {
      __index = function(_, field)
        local array = arrays[field]
        if array then return array end
        local kind = others[field]
        if kind then
          error(format("view.%s.%s is %s: batch views hold numeric fields only (use ecs.get(view.ids[i], %q))",
            cname, tostring(field), kind, cname), 2)
        end
        error(format("view.%s has no field %s", cname, tostring(field)), 2)
      end,
      __newindex = function(_, field)
        error(format("view.%s.%s cannot be replaced; assign to its elements: view.%s.%s[i] = value",
          cname, tostring(field), cname, tostring(field)), 2)
      end,
    })
  end
  local copied_ids, stored_ids = new_column(COLUMN, "ids", true), new_column(ID_COLUMN, "ids", true)
  local scratch = ffi.new("uint8_t[1]")
  view.n = 0
  setmetatable(view, {
    __index = function(_, k)
      error(format("view.%s: not a component of this batch system (it has %s)", tostring(k), concat(names, ", ")), 2)
    end,
  })
  local ncols = #cols
  return function(n, id_ptr, in_place, ptrs, strides, dirty, dt)
    ptrs, strides, dirty = cast(POINTERS, ptrs), cast(INTS, strides), cast(BYTES, dirty)
    local gen = GEN[0]
    for j = 1, ncols do
      local c = cast(WRITABLE, cols[j])
      c.p, c.stride, c.dirty, c.n, c.gen = ptrs[j - 1], strides[j - 1], dirty + (j - 1), n, gen
    end
    local ids = in_place and stored_ids or copied_ids
    local w = cast(WRITABLE, ids)
    w.p, w.dirty, w.n, w.gen = id_ptr, scratch, n, gen
    rawset(view, "ids", ids)
    rawset(view, "n", n)
    return fn(view, dt)
  end
end

-- Coroutines ---------------------------------------------------------------
--
-- ecs.start wraps the function in a Lua coroutine the runtime resumes; the
-- wait functions yield a request to it. The runtime reads where a suspended
-- coroutine is, and its locals, through the debug library it keeps to
-- itself.
local debug = P.debug
local YIELD, running, create = coroutine.yield, coroutine.running, coroutine.create
local resume_co, status = coroutine.resume, coroutine.status
local WAIT = {}
local managed = setmetatable({}, { __mode = "k" })
local coroutines = {}
local next_handle = 0

function ecs.start(name, fn, ...)
  if type(name) ~= "string" then
    error(P.misuse("start_name", "ecs.start", name), 2)
  end
  if type(fn) ~= "function" then
    error(P.misuse("start", name, fn), 2)
  end
  local co = create(fn)
  managed[co] = true
  next_handle = next_handle + 1
  coroutines[next_handle] = { co = co, fn = fn, args = { ... }, n = select("#", ...) }
  return P.start(name, next_handle)
end

function ecs.stop(id) return P.stop(id) end

local function inside(call)
  local co = running()
  if not co or not managed[co] then
    error(P.misuse("wait", call, nil), 3)
  end
end

function ecs.wait_frames(n)
  inside("ecs.wait_frames")
  return YIELD(WAIT, "frames", P.check_wait("frames", n))
end

function ecs.wait_seconds(s)
  inside("ecs.wait_seconds")
  return YIELD(WAIT, "seconds", P.check_wait("seconds", s))
end

function ecs.wait_event(event)
  inside("ecs.wait_event")
  return YIELD(WAIT, "event", P.check_wait("event", event))
end

-- The innermost script frame of a coroutine: file, line, level.
local function where(co)
  for level = 0, 64 do
    local info = debug.getinfo(co, level, "Sl")
    if not info then return nil end
    if info.what ~= "C" and not find(info.source, "^=ecscope") then
      return info.short_src, info.currentline, level
    end
  end
end

-- A short rendering of a value for the locals view.
local function describe(v, depth)
  local t = type(v)
  if t == "string" then
    if #v > 60 then v = sub(v, 1, 57) .. "..." end
    return format("%q", v)
  elseif t == "table" then
    if (depth or 0) > 0 then return "{...}" end
    local parts, n = {}, 0
    for k, x in pairs(v) do
      n = n + 1
      if n > 6 then parts[#parts + 1] = "..." break end
      parts[#parts + 1] = (type(k) == "string" and k .. " = " or "") .. describe(x, 1)
    end
    return "{" .. concat(parts, ", ") .. "}"
  elseif t == "cdata" then
    local ok, s = raw_pcall(tostring, v)
    return ok and s or "cdata"
  elseif t == "function" or t == "thread" or t == "userdata" then
    return t
  end
  return tostring(v)
end

-- Runs one step; returns what it ended with: "frames"/"seconds"/"event"
-- and the value, "returned", "error" with message and traceback, or
-- "bad_yield" with the type yielded and where.
local function resume(handle, input)
  local entry = coroutines[handle]
  if not entry then return "returned" end
  local co = entry.co
  local ok, a, b, c
  if entry.args then
    local args, n = entry.args, entry.n
    entry.args = nil
    ok, a, b, c = resume_co(co, unpack(args, 1, n))
  else
    ok, a, b, c = resume_co(co, input)
  end
  if not ok then
    -- The dead coroutine keeps its stack: the host may stop on it.
    on_error_co(co, tostring(a))
    return "error", tostring(a), debug.traceback(co, tostring(a))
  end
  if status(co) == "dead" then return "returned" end
  if a == WAIT then return b, c end
  if a == nil then return "frames", 1 end
  local file, line = where(co)
  return "bad_yield", type(a), file and format("%s:%d", file, line) or ""
end

-- A coroutine that has not run yet: where its function starts, and the
-- arguments it will get.
local function not_started(entry)
  local info = debug.getinfo(entry.fn, "S")
  local locals = {}
  for i = 1, entry.n do locals[#locals + 1] = { "argument " .. i, describe(entry.args[i]) } end
  return {
    file = info.short_src, line = info.linedefined,
    ["function"] = format("function <%s:%d>", info.short_src, info.linedefined),
    locals = locals,
  }
end

-- The frames of a suspended coroutine, innermost first, with locals.
local function inspect(handle)
  local entry = coroutines[handle]
  local frames = {}
  if not entry then return frames end
  if entry.args then return { not_started(entry) } end
  local co = entry.co
  local _, _, first = where(co)
  if not first then return frames end
  for level = first, 64 do
    local info = debug.getinfo(co, level, "Sln")
    if not info then break end
    if info.what ~= "C" and not find(info.source, "^=ecscope") then
      local locals = {}
      for i = 1, 200 do
        local name, value = debug.getlocal(co, level, i)
        if not name then break end
        if sub(name, 1, 1) ~= "(" then locals[#locals + 1] = { name, describe(value) } end
      end
      local line = info.currentline
      if line < 0 then line = info.linedefined end
      frames[#frames + 1] = {
        file = info.short_src, line = line,
        ["function"] = info.name or (info.what == "main" and "main chunk")
          or format("function <%s:%d>", info.short_src, info.linedefined),
        locals = locals,
      }
    end
  end
  return frames
end

-- Where a suspended coroutine is, cheaply (no locals).
local function locate(handle)
  local entry = coroutines[handle]
  if not entry then return nil end
  if entry.args then
    local frame = not_started(entry)
    return frame.file, frame.line
  end
  local file, line, level = where(entry.co)
  if file and line < 0 then
    line = debug.getinfo(entry.co, level, "S").linedefined
  end
  return file, line
end

local function release(handle) coroutines[handle] = nil end

-- Limits that hold ----------------------------------------------------------
--
-- pcall, xpcall and coroutine.resume catch errors, the instruction limit's
-- among them, so a loop around them could start over forever. Once the
-- limit has fired (the hook sets TRIPPED; the runtime clears it each frame)
-- they raise it again, and the call into the script ends.
local TRIPPED = cast("const uint8_t *", P.tripped)
local LIMIT = P.limit_message
local MAX_NESTED = P.max_nested_resumes

local function after_catch(...)
  if TRIPPED[0] ~= 0 then error(LIMIT, 2) end
  return ...
end
function pcall(f, ...) return after_catch(raw_pcall(f, ...)) end
-- LuaJIT runs an xpcall handler with hooks off, so a handler that loops
-- could never be stopped; the handler runs after the protected call
-- instead, as an ordinary (watched) call. Scripts have no debug library,
-- so the stack it would have seen is not theirs to read anyway.
local function after_xpcall(handler, ok, ...)
  if TRIPPED[0] ~= 0 then error(LIMIT, 2) end
  if ok then return true, ... end
  local _, result = raw_pcall(handler, (...))
  if TRIPPED[0] ~= 0 then error(LIMIT, 2) end
  return false, result
end
function xpcall(f, handler, ...) return after_xpcall(handler, raw_pcall(f, ...)) end

-- Each resume inside another runs on the C stack; past a depth the process
-- itself would overflow, so nested resumes are limited. The count lives in
-- the runtime's memory, which sets it back to 0 each frame (a resume that
-- ended in a memory error may have left it raised).
local NESTED = cast("int32_t *", P.nested)
local function resumed(...)
  NESTED[0] = NESTED[0] - 1
  if TRIPPED[0] ~= 0 then error(LIMIT, 2) end
  return ...
end
local function checked_resume(co, ...)
  if type(co) ~= "thread" then return resume_co(co, ...) end
  if NESTED[0] >= MAX_NESTED then
    error(format("coroutine.resume: more than %d coroutines resumed inside one another; resume them one after another instead", MAX_NESTED), 2)
  end
  NESTED[0] = NESTED[0] + 1
  return resumed(resume_co(co, ...))
end
coroutine.resume = checked_resume
local function unwrapped(ok, ...)
  if ok then return ... end
  error((...), 0)
end
function coroutine.wrap(f)
  local co = create(f)
  return function(...) return unwrapped(checked_resume(co, ...)) end
end

-- The debugger ---------------------------------------------------------------
--
-- Evaluates typed code in a stopped frame. The host copies the frame's
-- locals and upvalues into `vals` and `upvals`; the code sees them (and the
-- script's globals) through an environment, and an assignment lands in the
-- tables, which the host writes back. `code` is as typed (for the
-- expressions of children); `run` is the same with a step counter called
-- in every loop body and function.
-- Whether a value is a live component (its fields expand like a table's).
local function is_proxy(v)
  if type(v) ~= "cdata" then return false end
  for i = 1, #proxy_keys do
    if ffi.istype(proxy_keys[i][1], v) then return true end
  end
  return false
end

local function record(name, v, expr)
  local t = type(v)
  return { name, describe(v), t, expr or "", t == "table" or is_proxy(v), v ~= nil and v ~= false }
end

local function key_name(k)
  if type(k) == "string" then return k end
  return "[" .. tostring(k) .. "]"
end

local KEYWORDS = {}
for w in gmatch("and break do else elseif end false for function goto if in local nil not or repeat return then true until while", "%a+") do
  KEYWORDS[w] = true
end

local function child_expr(parent, k)
  if parent == "" then return "" end
  local t = type(k)
  if t == "string" then
    if find(k, "^[%a_][%w_]*$") and not KEYWORDS[k] then return "(" .. parent .. ")." .. k end
    return format("(%s)[%q]", parent, k)
  elseif t == "number" or t == "boolean" then
    return format("(%s)[%s]", parent, tostring(k))
  end
  return ""
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if ta == "number" then return true end
    if tb == "number" then return false end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function clean(message)
  message = tostring(message)
  return (gsub(message, "^debug:%d+: ", ""))
end

local compiled, compiled_count = {}, 0

local function evaluate(mode, code, run, names, vals, upnames, upvals, fn, steps)
  local index = {}
  for i = 1, #upnames do index[upnames[i]] = -i end
  for i = 1, #names do index[names[i]] = i end
  if mode == "locals" then
    local out = {}
    for i = 1, #names do
      if index[names[i]] == i then out[#out + 1] = record(names[i], vals[i], names[i]) end
    end
    return true, out
  end
  local base = (type(fn) == "function" and getfenv(fn)) or getfenv(0)
  local left = steps
  local function tick()
    left = left - 1
    if left < 0 then
      error(format("stopped: more than %d loop passes and calls (an endless loop?)", steps), 0)
    end
  end
  local env = setmetatable({}, {
    __index = function(_, k)
      if k == "__ecscope_tick" then return tick end
      local i = index[k]
      if i then
        if i > 0 then return vals[i] end
        return upvals[-i]
      end
      return base[k]
    end,
    __newindex = function(_, k, v)
      local i = index[k]
      if i then
        if i > 0 then vals[i] = v else upvals[-i] = v end
      else
        base[k] = v
      end
    end,
  })
  -- A condition is evaluated at every pass of its line: compiled once.
  local cached = compiled[run]
  local chunk, is_expression
  if cached then
    chunk, is_expression = cached[1], cached[2]
  else
    -- Text only: typed code (or a condition read from a project's saved
    -- breakpoints) must never be bytecode.
    chunk = raw_load("return " .. run, "=debug", "t")
    is_expression = chunk ~= nil
    if not chunk then
      local err
      chunk, err = raw_load(run, "=debug", "t")
      if not chunk then return false, clean(err) end
    end
    if compiled_count >= 256 then compiled, compiled_count = {}, 0 end
    compiled[run] = { chunk, is_expression }
    compiled_count = compiled_count + 1
  end
  setfenv(chunk, env)
  local ok, v = raw_pcall(chunk)
  if not ok then return false, clean(v) end
  if mode == "test" then return true, v ~= nil and v ~= false end
  if mode == "children" then
    -- A live component lists its fields from a copy; the children's
    -- expressions still name the live fields, so setting one writes it.
    if is_proxy(v) then
      local read, copy = raw_pcall(plain, v)
      if not read then return false, clean(copy) end
      v = copy
    end
    if type(v) ~= "table" then return false, code .. " is a " .. type(v) .. ", which has no fields" end
    local keys = {}
    for k in next, v do
      keys[#keys + 1] = k
      if #keys >= 10000 then break end
    end
    sort(keys, key_order)
    local out = {}
    for i = 1, #keys do
      if i > 100 then
        out[#out + 1] = { "...", format("%d more not shown", #keys - 100), "", "", false, false }
        break
      end
      local k = keys[i]
      out[#out + 1] = record(key_name(k), v[k], child_expr(code, k))
    end
    return true, out
  end
  if not is_expression then return true, { "", "ok", "statement", "", false, true } end
  return true, record("", v, code)
end

-- Break on error: called where a system or handler raised, before the
-- stack unwinds (the host stops there when the user asked for it).
local function raised(message)
  on_error(tostring(message))
  if type(message) == "string" then return traceback(message, 2) end
  return message
end
local function rethrow(ok, ...)
  if ok then return ... end
  error((...), 0)
end
local function guard(f, ...) return rethrow(raw_xpcall(f, raised, ...)) end

-- Leak hunting ----------------------------------------------------------------
-- While the leak detector suspects this script, the host takes two censuses
-- of the tables its roots reach, a window apart, names the tables that grew
-- by where they hang (`trails[*]`: the tables kept under keys of `trails`),
-- then watches the biggest of them for a moment: a new key stored in one
-- (`t[k] = v`, or `table.insert(t, v)`) records the line that stored it.

-- Tables visited per census at most; past PATH_TABLES tables under one
-- path (`trails[*][*]`), more are counted in their parent, not walked
-- (their shapes repeat).
local CENSUS_VISITS, PATH_TABLES, CENSUS_DEPTH, WATCHED = 20000, 256, 8, 16
local getupvalue, getinfo = P.debug.getupvalue, P.debug.getinfo
local getmetatable, rawget = getmetatable, rawget
local table_insert = table.insert
local census_before
local watch -- { tables = set, hits = line -> count, insert = original }

local library = {}
for _, t in ipairs({ string, table, math, coroutine, os, io, package, bit, jit, ffi, P.debug, ecs }) do
  if t then library[t] = true end
end

local function census(roots)
  local seen, out, visits, per_path = {}, {}, 0, {}
  local walk
  local function add(path, t, n)
    local e = out[path]
    if not e then
      e = { size = 0, tables = 0, list = {} }
      out[path] = e
    end
    e.size, e.tables = e.size + n, e.tables + 1
    if #e.list < WATCHED then e.list[#e.list + 1] = t end
  end
  walk = function(v, path, depth)
    local tv = type(v)
    if visits >= CENSUS_VISITS or depth > CENSUS_DEPTH or seen[v] then return end
    if tv == "table" then
      if library[v] then return end
      seen[v] = true
      visits = visits + 1
      local n, elements = 0, path .. "[*]"
      for k, child in next, v do
        n = n + 1
        local tc = type(child)
        if tc == "table" or tc == "function" then
          if type(k) == "string" then
            walk(child, path .. "." .. k, depth + 1)
          elseif (per_path[elements] or 0) < PATH_TABLES then
            per_path[elements] = (per_path[elements] or 0) + 1
            walk(child, elements, depth + 1)
          end
        end
      end
      add(path, v, n)
    elseif tv == "function" then
      seen[v] = true
      local i = 1
      while true do
        local name, up = getupvalue(v, i)
        if not name then break end
        if name ~= "" and name ~= "_ENV" then walk(up, name, depth + 1) end
        i = i + 1
      end
    end
  end
  for i = 1, #roots, 2 do
    local name, root = roots[i], roots[i + 1]
    if name == "" and type(root) == "table" then
      -- The globals: each named by itself.
      seen[root] = true
      for k, v in next, root do
        if type(k) == "string" then walk(v, k, 1) end
      end
    else
      walk(root, name, 0)
    end
  end
  return out
end

local function stored(t)
  local w = watch
  if w and w.tables[t] then
    local info = getinfo(3, "Sl")
    if info and info.currentline and info.currentline > 0 then
      local at = info.short_src .. ":" .. info.currentline
      w.hits[at] = (w.hits[at] or 0) + 1
    end
  end
end
local watched_mt = {
  __newindex = function(t, k, v)
    stored(t)
    rawset(t, k, v)
  end,
}

-- step "start": the first census. "watch": the second, and the watch on
-- the tables that grew most. "finish": ends the watch; returns the tables'
-- path, their growth in entries and how many there are, and the line that
-- stored most (file and line), or nothing.
local function hunt_leak(step, roots)
  if step == "start" then
    census_before = census(roots)
    return
  end
  if step == "watch" then
    local before = census_before
    census_before = nil
    if not before then return end
    local after = census(roots)
    local best, growth
    for path, e in next, after do
      local was = before[path]
      local g = e.size - (was and was.size or 0)
      if g > 0 and (not growth or g > growth or (g == growth and path < best)) then
        best, growth = path, g
      end
    end
    if not best then return end
    watch = { tables = {}, hits = {}, path = best, growth = growth, count = after[best].tables }
    for _, t in ipairs(after[best].list) do
      if getmetatable(t) == nil then
        watch.tables[t] = true
        setmetatable(t, watched_mt)
      end
    end
    table.insert = function(t, ...)
      if type(t) == "table" then stored(t) end
      return table_insert(t, ...)
    end
    return
  end
  -- finish
  local w = watch
  watch = nil
  if not w then return end
  table.insert = table_insert
  for t in next, w.tables do
    if getmetatable(t) == watched_mt then setmetatable(t, nil) end
  end
  local line, most
  for at, n in next, w.hits do
    if not most or n > most or (n == most and at < line) then line, most = at, n end
  end
  return w.path, w.growth, w.count, line
end

return {
  hunt_leak = hunt_leak,
  make_runner = make_runner,
  make_batch_runner = make_batch_runner,
  resume = resume,
  inspect = inspect,
  locate = locate,
  release = release,
  describe = describe,
  evaluate = evaluate,
  guard = guard,
}
