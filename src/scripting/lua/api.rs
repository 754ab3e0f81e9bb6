//! The `ecs` table, `print` and `require` for one Lua state. Each function
//! converts its arguments, calls [`HostState`](crate::scripting::host::HostState)
//! and raises errors at the calling script line.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::path::PathBuf;
use std::rc::Rc;

use mlua::{Function, LightUserData, Lua, Table, Value, Variadic};

use super::convert::{from_lua, to_lua};
use super::hook::Budget;
use crate::ecs::api::{self, Got, LUA};
use crate::ecs::components::CompKey;
use crate::ecs::coroutines::WaitRequest;
use crate::scripting::host::{Access, ApiError, HostState, QuerySpec};
use crate::scripting::{FnHandle, ScriptId, ScriptValue, SharedHost};

/// How many coroutines a script may resume inside one another. Each has
/// its own allowance of nested C calls (a `table.sort` comparator that
/// sorts again...), all on the one native stack of the scripts' thread,
/// which is sized for this many (see [`crate::scripting::SCRIPT_STACK`]).
const MAX_NESTED_RESUMES: i64 = 16;

/// Registry key of the original `tostring`.
const TOSTRING_KEY: &str = "ecscope.tostring";

/// The prelude's source (see the file for what it does).
const PRELUDE: &str = include_str!("prelude.lua");

/// The id and pointer arrays of one running query, kept alive while Lua
/// reads them.
struct QueryBuffers {
    _ids: Vec<f64>,
    _ptrs: Vec<*mut f64>,
}

/// What every binding of one script needs.
pub struct Ctx {
    /// The shared host.
    pub host: SharedHost,
    /// `[limits] value_items`: the most items a value from the script may
    /// hold.
    pub value_items: Cell<u64>,
    /// This script.
    pub script: ScriptId,
    /// Its manifest path.
    pub path: String,
    /// The project folder (for `require`).
    pub root: PathBuf,
    /// Functions registered with `ecs.system`/`ecs.on`; a [`FnHandle`] is an
    /// index here.
    pub fns: RefCell<Vec<Function>>,
    /// The generated per-entity loop of each query system, by handle.
    pub runners: RefCell<HashMap<u32, Function>>,
    /// Project modules this script loaded with `require` (relative paths).
    pub deps: RefCell<BTreeSet<String>>,
    /// Buffers of query loops still running, by token.
    queries: RefCell<HashMap<u32, QueryBuffers>>,
    next_query: Cell<u32>,
    make_runner: RefCell<Option<Function>>,
    /// The prelude's maker of batch-system wrappers.
    make_batch_runner: RefCell<Option<Function>>,
    /// The prelude's functions the host calls (resume, inspect...).
    pub exports: RefCell<Option<Table>>,
}

impl Ctx {
    /// A context for one script.
    pub fn new(host: SharedHost, script: ScriptId, path: &str, root: PathBuf) -> Ctx {
        Ctx {
            host,
            value_items: Cell::new(crate::project::DEFAULT_VALUE_ITEMS),
            script,
            path: path.to_string(),
            root,
            fns: RefCell::default(),
            runners: RefCell::default(),
            deps: RefCell::default(),
            queries: RefCell::default(),
            next_query: Cell::new(0),
            make_runner: RefCell::default(),
            make_batch_runner: RefCell::default(),
            exports: RefCell::default(),
        }
    }

    /// Frees the buffers of query loops; called when a call into the
    /// script ends (its proxies and loops are invalid from then on).
    pub fn end_call(&self) {
        self.queries.borrow_mut().clear();
    }

    pub(super) fn with_host<R>(&self, f: impl FnOnce(&mut HostState) -> R) -> mlua::Result<R> {
        let mut host = self
            .host
            .try_borrow_mut()
            .map_err(|_| mlua::Error::runtime("the ecs API was re-entered while busy"))?;
        Ok(f(&mut host))
    }

    fn keep_fn(&self, f: Function) -> FnHandle {
        let mut fns = self.fns.borrow_mut();
        fns.push(f);
        FnHandle(fns.len() as u32 - 1)
    }
}

/// Chunk names of the runtime's own Lua code start with this; errors are
/// placed at the first script frame outside it.
pub const INTERNAL_CHUNK: &str = "ecscope ";

/// The first script frame's `file:line` above the running C function.
pub fn caller_location(lua: &Lua) -> Option<(String, u32)> {
    for level in 1..16 {
        let found = lua.inspect_stack(level, |d| {
            let src = d.source();
            let line = d.current_line();
            (src.what, src.short_src.map(|s| s.to_string()), line)
        })?;
        if let (what, Some(src), Some(line)) = found
            && what != "C"
            && line > 0
            && !src.starts_with(INTERNAL_CHUNK)
        {
            return Some((src, line as u32));
        }
    }
    None
}

/// An error raised at the calling script line: `file:line: message`.
pub fn located(lua: &Lua, message: impl Display) -> mlua::Error {
    match caller_location(lua) {
        Some((src, line)) => mlua::Error::runtime(format!("{src}:{line}: {message}")),
        None => mlua::Error::runtime(message.to_string()),
    }
}

fn api_err(lua: &Lua, call: &str, e: ApiError) -> mlua::Error {
    located(lua, api::in_call(call, &e.0))
}

fn arg_id(lua: &Lua, call: &str, v: &Value) -> mlua::Result<u64> {
    match v {
        Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        other => Err(located(lua, api::bad_entity_id(call, &got(other)))),
    }
}

/// Parameter `param` of `call` (as [`api::FUNCTIONS`] names it), which
/// takes a string.
fn arg_str(lua: &Lua, call: &str, param: &str, v: &Value) -> mlua::Result<String> {
    match v {
        Value::String(s) => Ok(s.to_string_lossy()),
        other => Err(located(lua, api::not_a_string(call, param, &got(other)))),
    }
}

fn arg_fn(lua: &Lua, call: &str, v: &Value) -> mlua::Result<Function> {
    match v {
        Value::Function(f) => Ok(f.clone()),
        other => Err(located(
            lua,
            format!("{call}: expected a function, got {}", describe(other)),
        )),
    }
}

/// A Lua value as a message names it.
fn got(v: &Value) -> Got {
    match v {
        Value::Integer(i) => Got::new("number", Some(i.to_string())),
        Value::Number(n) => Got::new("number", Some(n.to_string())),
        Value::String(s) => Got::string("string", &s.to_string_lossy()),
        other => Got::new(other.type_name(), None),
    }
}

fn describe(v: &Value) -> String {
    got(v).to_string()
}

/// Component names from `{"A", "B"}` (or a single `"A"`), plus a `without`
/// list from the names table itself or from `opts`.
fn arg_names(
    lua: &Lua,
    call: &str,
    names: &Value,
    opts: Option<&Value>,
) -> mlua::Result<(Vec<String>, Vec<String>)> {
    let list_of = |t: &Table| -> mlua::Result<Vec<String>> {
        let mut out = Vec::new();
        for v in t.sequence_values::<Value>() {
            out.push(arg_str(lua, call, "a component name", &v?)?);
        }
        Ok(out)
    };
    let mut without = Vec::new();
    let with = match names {
        Value::String(s) => vec![s.to_string_lossy()],
        Value::Table(t) => {
            if let Value::Table(w) = t.raw_get::<Value>("without")? {
                without.extend(list_of(&w)?);
            }
            list_of(t)?
        }
        other => {
            return Err(located(lua, api::not_names(&LUA, call, &got(other))));
        }
    };
    match opts {
        None | Some(Value::Nil) => {}
        Some(Value::Table(o)) => match o.raw_get::<Value>("without")? {
            Value::Nil => {}
            Value::Table(w) => without.extend(list_of(&w)?),
            Value::String(s) => without.push(s.to_string_lossy()),
            other => {
                return Err(located(
                    lua,
                    format!(
                        "{call}: opts.without must be a table of names, got {}",
                        describe(&other)
                    ),
                ));
            }
        },
        Some(other) => {
            return Err(located(
                lua,
                format!(
                    "{call}: options must be a table such as {{without = {{\"Frozen\"}}}}, got {}",
                    describe(other)
                ),
            ));
        }
    }
    Ok((with, without))
}

fn query_spec(
    lua: &Lua,
    ctx: &Ctx,
    call: &str,
    names: &Value,
    opts: Option<&Value>,
) -> mlua::Result<QuerySpec> {
    let (with, without) = arg_names(lua, call, names, opts)?;
    ctx.with_host(|h| h.query_spec(&with, &without))?
        .map_err(|e| api_err(lua, call, e))
}

/// A system's declared access from its options table's `reads` and
/// `writes` (SCRIPT_API §5); `None` when it declares neither.
fn access_of(
    lua: &Lua,
    ctx: &Ctx,
    call: &str,
    query: Option<&QuerySpec>,
    opts: Option<&Value>,
) -> mlua::Result<Option<Access>> {
    let Some(Value::Table(opts)) = opts else {
        return Ok(None);
    };
    // A misspelt option would leave the system unchecked without a word.
    for pair in opts.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let known = matches!(&key, Value::String(s) if ["without", "reads", "writes"].contains(&s.to_string_lossy().as_str()));
        if !known {
            return Err(located(
                lua,
                format!(
                    "{call}: unknown option {} (options: without, reads, writes)",
                    match &key {
                        Value::String(s) => format!("{:?}", s.to_string_lossy()),
                        other => describe(other),
                    }
                ),
            ));
        }
    }
    let list = |field: &str| -> mlua::Result<Option<Vec<String>>> {
        match opts.raw_get::<Value>(field)? {
            Value::Nil => Ok(None),
            Value::Table(t) => {
                // Exactly the keys 1..n: a map or a list with holes is
                // not a list of names.
                let n = t.raw_len();
                let keys = t.pairs::<Value, Value>().count();
                if keys != n {
                    return Err(located(
                        lua,
                        format!(
                            "{call}: {field} must be a list of component names such as {{\"Position\"}}, got a table with other keys"
                        ),
                    ));
                }
                let mut names = Vec::new();
                for v in t.sequence_values::<Value>() {
                    names.push(arg_str(
                        lua,
                        call,
                        &format!("a component name in {field}"),
                        &v?,
                    )?);
                }
                Ok(Some(names))
            }
            other => Err(located(
                lua,
                format!(
                    "{call}: {field} must be a list of component names such as {{\"Position\"}}, got {}",
                    describe(&other)
                ),
            )),
        }
    };
    let (reads, writes) = (list("reads")?, list("writes")?);
    ctx.with_host(|h| h.system_access(query, reads.as_deref(), writes.as_deref()))?
        .map_err(|e| api_err(lua, call, e))
}

/// Joins values the way `print` does, with the `tostring` the state
/// started with (kept in the registry at install: a script may replace the
/// global, and runtime code never calls a script's replacement).
fn join(lua: &Lua, args: &[Value], sep: &str) -> mlua::Result<String> {
    let tostring: Function = lua.named_registry_value(TOSTRING_KEY)?;
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let s: mlua::LuaString = tostring.call(v.clone())?;
        out.push_str(&s.to_string_lossy());
    }
    Ok(out)
}

/// Installs `ecs`, `print` and the project module searcher.
pub fn install(lua: &Lua, ctx: Rc<Ctx>, budget: &std::sync::Arc<Budget>) -> mlua::Result<()> {
    lua.set_named_registry_value(TOSTRING_KEY, lua.globals().get::<Function>("tostring")?)?;
    let ecs = lua.create_table()?;

    // Each API function ends by serving a stack sample asked for while it
    // ran, so that the time spent in it lands on the line that called it.
    macro_rules! func {
        ($name:literal, |$lua:ident, $ctx:ident, $args:ident: $ty:ty| $body:block) => {{
            let $ctx = Rc::clone(&ctx);
            let budget = std::sync::Arc::clone(budget);
            ecs.set(
                $name,
                lua.create_function(move |$lua, $args: $ty| {
                    let $ctx = &$ctx;
                    let result = crate::profiling::alloc::in_host_call(|| $body);
                    super::hook::after_host_call($lua, &budget);
                    result
                })?,
            )?;
        }};
    }

    func!("component", |lua, ctx, args: (Value, Value)| {
        let name = arg_str(lua, "ecs.component", "name", &args.0)?;
        let defaults = from_lua(&args.1, ctx.value_items.get())
            .map_err(|e| located(lua, format!("ecs.component({name:?}): {e}")))?;
        let script = ctx.script;
        ctx.with_host(|h| h.declare_component(script, &name, defaults))?
            .map_err(|e| api_err(lua, "ecs.component", e))
    });
    func!("spawn", |lua, ctx, components: Value| {
        if !matches!(components, Value::Table(_)) {
            return Err(located(lua, api::not_components(&LUA, &got(&components))));
        }
        let value = from_lua(&components, ctx.value_items.get())
            .map_err(|e| located(lua, format!("ecs.spawn: {e}")))?;
        let script = ctx.script;
        // An entity id depends on what systems before this one spawned.
        ctx.host.wait_turn(script);
        ctx.with_host(|h| h.spawn_by(script, value))?
            .map(|id| id as i64)
            .map_err(|e| api_err(lua, "ecs.spawn", e))
    });
    func!("despawn", |lua, ctx, id: Value| {
        let id = arg_id(lua, "ecs.despawn", &id)?;
        ctx.with_host(|h| h.despawn(id))?
            .map_err(|e| api_err(lua, "ecs.despawn", e))
    });
    func!("exists", |lua, ctx, id: Value| {
        let id = arg_id(lua, "ecs.exists", &id)?;
        ctx.with_host(|h| h.exists(id))
    });
    func!("get", |lua, ctx, args: (Value, Value)| {
        let id = arg_id(lua, "ecs.get", &args.0)?;
        let name = arg_str(lua, "ecs.get", "name", &args.1)?;
        let value = ctx
            .with_host(|h| h.get(id, &name))?
            .map_err(|e| api_err(lua, "ecs.get", e))?;
        to_lua(lua, &value)
    });
    func!("set", |lua, ctx, args: (Value, Value, Value)| {
        let id = arg_id(lua, "ecs.set", &args.0)?;
        let name = arg_str(lua, "ecs.set", "name", &args.1)?;
        let value = from_lua(&args.2, ctx.value_items.get())
            .map_err(|e| located(lua, format!("ecs.set({id}, {name:?}): {e}")))?;
        ctx.with_host(|h| h.set(id, &name, value))?
            .map_err(|e| api_err(lua, "ecs.set", e))
    });
    func!("remove", |lua, ctx, args: (Value, Value)| {
        let id = arg_id(lua, "ecs.remove", &args.0)?;
        let name = arg_str(lua, "ecs.remove", "name", &args.1)?;
        ctx.with_host(|h| h.remove(id, &name))?
            .map_err(|e| api_err(lua, "ecs.remove", e))
    });
    func!("has", |lua, ctx, args: (Value, Value)| {
        let id = arg_id(lua, "ecs.has", &args.0)?;
        let name = arg_str(lua, "ecs.has", "name", &args.1)?;
        ctx.with_host(|h| h.has(id, &name))?
            .map_err(|e| api_err(lua, "ecs.has", e))
    });
    func!("count", |lua, ctx, args: (Value, Option<Value>)| {
        let spec = query_spec(lua, ctx, "ecs.count", &args.0, args.1.as_ref())?;
        ctx.with_host(|h| h.query_ids(&spec).len() as i64)
    });
    func!("system", |lua,
                     ctx,
                     args: (
        Value,
        Value,
        Option<Value>,
        Option<Value>
    )| {
        let name = arg_str(lua, "ecs.system", "name", &args.0)?;
        let (query, f, opts) = match (&args.1, &args.2) {
            (Value::Function(f), None | Some(Value::Nil)) => (None, f.clone(), None),
            // The fn(dt) form with options: ecs.system(name, fn, { writes = ... }).
            (Value::Function(f), Some(opts @ Value::Table(_))) => {
                (None, f.clone(), Some(opts.clone()))
            }
            (Value::Function(_), Some(other)) => {
                return Err(located(
                    lua,
                    format!(
                        "ecs.system({name:?}, fn, opts): opts must be a table such as {{ writes = {{\"Clock\"}} }}, got {}",
                        describe(other)
                    ),
                ));
            }
            (names, Some(f)) => {
                let spec = query_spec(lua, ctx, "ecs.system", names, args.3.as_ref())?;
                (Some(spec), arg_fn(lua, "ecs.system", f)?, args.3.clone())
            }
            (other, None) => {
                return Err(located(lua, api::bad_system_args(&LUA, &name, &got(other))));
            }
        };
        let access = access_of(lua, ctx, "ecs.system", query.as_ref(), opts.as_ref())?;
        let handle = match &query {
            Some(spec) => keep_with_runner(ctx, &ctx.make_runner, &f, spec, access.as_ref())?,
            None => ctx.keep_fn(f.clone()),
        };
        let script = ctx.script;
        ctx.with_host(|h| h.add_system(script, &name, query, handle, access))
    });
    func!("batch_system", |lua,
                           ctx,
                           args: (
        Value,
        Value,
        Option<Value>,
        Option<Value>
    )| {
        let name = arg_str(lua, "ecs.batch_system", "name", &args.0)?;
        let Some(f) = args.2.as_ref() else {
            return Err(located(
                lua,
                format!(
                    "ecs.batch_system({name:?}, names, fn): expected a table of component names and a function"
                ),
            ));
        };
        let spec = query_spec(lua, ctx, "ecs.batch_system", &args.1, args.3.as_ref())?;
        let access = access_of(lua, ctx, "ecs.batch_system", Some(&spec), args.3.as_ref())?;
        let f = arg_fn(lua, "ecs.batch_system", f)?;
        let handle = keep_with_runner(ctx, &ctx.make_batch_runner, &f, &spec, access.as_ref())?;
        let script = ctx.script;
        ctx.with_host(|h| h.add_batch_system(script, &name, spec, handle, access))
    });
    func!("emit", |lua, ctx, args: (Value, Option<Value>)| {
        let event = arg_str(lua, "ecs.emit", "event", &args.0)?;
        let payload = match &args.1 {
            Some(v) => from_lua(v, ctx.value_items.get())
                .map_err(|e| located(lua, api::bad_payload(&event, &e.to_string())))?,
            None => ScriptValue::Nil,
        };
        let script = ctx.script;
        ctx.with_host(|h| h.emit(script, &event, payload))?
            .map_err(|e| api_err(lua, "ecs.emit", e))
    });
    func!("on", |lua, ctx, args: (Value, Value)| {
        let event = arg_str(lua, "ecs.on", "event", &args.0)?;
        let f = arg_fn(lua, "ecs.on", &args.1)?;
        let handle = ctx.keep_fn(f);
        let script = ctx.script;
        ctx.with_host(|h| h.add_handler(script, &event, handle))
    });
    func!("log", |lua, ctx, args: Variadic<Value>| {
        let message = join(lua, &args, " ")?;
        log(lua, ctx, message)
    });
    func!("random", |_lua, ctx, _args: ()| {
        ctx.with_host(|h| h.random(ctx.script))
    });
    func!("random_range", |lua, ctx, args: (Value, Value)| {
        let num = |v: &Value| match v {
            Value::Integer(i) => Ok(*i as f64),
            Value::Number(n) => Ok(*n),
            other => Err(located(
                lua,
                format!(
                    "ecs.random_range: bounds must be numbers, got {}",
                    describe(other)
                ),
            )),
        };
        let (a, b) = (num(&args.0)?, num(&args.1)?);
        ctx.with_host(|h| h.random_range(ctx.script, a, b))?
            .map_err(|e| api_err(lua, "ecs.random_range", e))
    });
    func!("frame", |_lua, ctx, _args: ()| {
        ctx.with_host(|h| h.frame() as i64)
    });
    func!("time", |_lua, ctx, _args: ()| {
        ctx.with_host(|h| h.time())
    });
    func!("dt", |_lua, ctx, _args: ()| { ctx.with_host(|h| h.dt()) });

    ecs.set("persist", lua.create_table()?)?;
    lua.globals().set("ecs", ecs)?;

    let print_ctx = Rc::clone(&ctx);
    lua.globals().set(
        "print",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let message = join(lua, &args, "\t")?;
            log(lua, &print_ctx, message)
        })?,
    )?;

    install_searcher(lua, &ctx)?;
    install_prelude(lua, &ctx, budget)?;
    Ok(())
}

fn field_name(lua: &Lua, field: &Value) -> mlua::Result<String> {
    match field {
        Value::String(s) => Ok(s.to_string_lossy()),
        other => Err(located(
            lua,
            format!(
                "component fields are named by strings, not by a {}",
                other.type_name()
            ),
        )),
    }
}

fn arg_key(lua: &Lua, ctx: &Ctx, v: &Value) -> mlua::Result<CompKey> {
    let count = ctx.with_host(|h| h.world.defs().len())?;
    match v {
        Value::Integer(i) if *i >= 0 && (*i as usize) < count => Ok(CompKey(*i as u32)),
        _ => Err(located(lua, "invalid component handle")),
    }
}

/// The host primitives the prelude builds proxies and loops on, then the
/// prelude itself. `ffi` is taken here and hidden from scripts.
fn install_prelude(lua: &Lua, ctx: &Rc<Ctx>, budget: &std::sync::Arc<Budget>) -> mlua::Result<()> {
    let p = lua.create_table()?;
    p.set(
        "tripped",
        LightUserData(budget.tripped.as_ptr() as *mut std::ffi::c_void),
    )?;
    p.set("limit_message", budget.message())?;
    p.set("max_nested_resumes", MAX_NESTED_RESUMES)?;
    p.set(
        "nested",
        LightUserData(budget.nested.as_ptr() as *mut std::ffi::c_void),
    )?;
    let ffi: Value = lua.globals().get::<Function>("require")?.call("ffi")?;
    p.set("ffi", ffi)?;
    p.set("debug", lua.globals().get::<Value>("debug")?)?;
    // SAFETY: both are C functions that follow Lua's calling convention and
    // read only the registry entries `hook::install` writes.
    unsafe {
        p.set("on_error", lua.create_c_function(super::hook::on_error)?)?;
        p.set(
            "on_error_co",
            lua.create_c_function(super::hook::on_error_co)?,
        )?;
    }
    let generation = ctx.with_host(|h| h.proxy_generation_ptr())?;
    p.set(
        "generation",
        LightUserData(generation as *mut std::ffi::c_void),
    )?;

    macro_rules! prim {
        ($name:literal, |$lua:ident, $ctx:ident, $args:ident: $ty:ty| $body:block) => {{
            let $ctx = Rc::clone(ctx);
            let budget = std::sync::Arc::clone(budget);
            p.set(
                $name,
                lua.create_function(move |$lua, $args: $ty| {
                    let $ctx = &$ctx;
                    let result = crate::profiling::alloc::in_host_call(|| $body);
                    super::hook::after_host_call($lua, &budget);
                    result
                })?,
            )?;
        }};
    }

    prim!("layout", |lua, ctx, key: Value| {
        let key = arg_key(lua, ctx, &key)?;
        let (name, offsets) = ctx.with_host(|h| {
            let def = h.world.def(key);
            (def.name.clone(), def.numeric_offsets())
        })?;
        let others = ctx.with_host(|h| {
            h.world
                .def(key)
                .fields
                .iter()
                .filter(|f| !f.kind.is_numeric())
                .map(|f| (f.name.clone(), f.kind.described().to_string()))
                .collect::<Vec<_>>()
        })?;
        let t = lua.create_table()?;
        t.set("name", name)?;
        t.set("offsets", lua.create_table_from(offsets)?)?;
        t.set("others", lua.create_table_from(others)?)?;
        Ok(t)
    });
    prim!("get_field", |lua, ctx, args: (Value, Value, Value)| {
        let id = arg_id(lua, "component field", &args.0)?;
        let key = arg_key(lua, ctx, &args.1)?;
        let field = field_name(lua, &args.2)?;
        let value = ctx
            .with_host(|h| h.get_field(id, key, &field))?
            .map_err(|e| located(lua, e))?;
        to_lua(lua, &value)
    });
    prim!(
        "set_field",
        |lua, ctx, args: (Value, Value, Value, Value)| {
            let id = arg_id(lua, "component field", &args.0)?;
            let key = arg_key(lua, ctx, &args.1)?;
            let field = field_name(lua, &args.2)?;
            let value = from_lua(&args.3, ctx.value_items.get())
                .map_err(|e| located(lua, format!("field {field:?}: {e}")))?;
            ctx.with_host(|h| h.set_field(id, key, &field, value))?
                .map_err(|e| located(lua, e))
        }
    );
    prim!("get_value", |lua, ctx, args: (Value, Value)| {
        let id = arg_id(lua, "component", &args.0)?;
        let key = arg_key(lua, ctx, &args.1)?;
        let value = ctx.with_host(|h| {
            let def = h.world.def(key);
            h.world
                .read(id, key)
                .map(|r| def.value_of(&r))
                .ok_or_else(|| format!("entity {id} no longer has {}", def.name))
        })?;
        to_lua(lua, &value.map_err(|e| located(lua, e))?)
    });
    prim!("describe", |_lua, ctx, args: (Value, Value)| {
        let (Value::Integer(id), Value::Integer(key)) = args else {
            return Ok("component".to_string());
        };
        ctx.with_host(|h| {
            let key = CompKey(key as u32);
            let Some(def) = h.world.defs().get(key.0 as usize) else {
                return "component".to_string();
            };
            match h.world.read(id as u64, key) {
                Some(r) => format!("{} {} (entity {id})", def.name, def.value_of(&r)),
                None => format!("{} (entity {id}, gone)", def.name),
            }
        })
    });
    prim!("query", |lua, ctx, args: (Value, Option<Value>)| {
        let spec = query_spec(lua, ctx, "ecs.query", &args.0, args.1.as_ref())?;
        let (ids, ptrs, read_only) = ctx.with_host(|h| {
            h.begin_defer();
            let ids = h.script_query(&spec);
            let ptrs = h.numeric_ptrs(&ids, &spec.with);
            // Read-only proxies only where the running system lists a
            // component under reads (usually none: no table is made).
            let read_only = spec.with.iter().any(|k| h.read_only(*k)).then(|| {
                spec.with
                    .iter()
                    .map(|k| h.read_only(*k))
                    .collect::<Vec<bool>>()
            });
            (ids, ptrs, read_only)
        })?;
        let n = ids.len() as i64;
        let ids: Vec<f64> = ids.into_iter().map(|id| id as f64).collect();
        let ids_ptr = LightUserData(ids.as_ptr() as *mut std::ffi::c_void);
        let ptrs_ptr = LightUserData(ptrs.as_ptr() as *mut std::ffi::c_void);
        let token = ctx.next_query.get().wrapping_add(1);
        ctx.next_query.set(token);
        ctx.queries.borrow_mut().insert(
            token,
            QueryBuffers {
                _ids: ids,
                _ptrs: ptrs,
            },
        );
        let keys: Vec<i64> = spec.with.iter().map(|k| k.0 as i64).collect();
        Ok((n, ids_ptr, ptrs_ptr, keys, token, read_only))
    });
    prim!("start", |lua, ctx, args: (Value, Value)| {
        let name = arg_str(lua, "ecs.start", "name", &args.0)?;
        let Value::Integer(handle) = args.1 else {
            return Err(located(lua, "ecs.start: invalid coroutine handle"));
        };
        let script = ctx.script;
        ctx.host.wait_turn(script);
        ctx.with_host(|h| h.start_coroutine(script, FnHandle(handle as u32), &name) as i64)
    });
    // What the prelude's own checks say, in the words every binding uses.
    prim!("misuse", |lua, ctx, args: (String, Value, Value)| {
        let _ = ctx;
        let (kind, name, value) = args;
        let name = match name {
            Value::String(s) => s.to_string_lossy(),
            other => describe(&other),
        };
        Ok::<_, mlua::Error>(match kind.as_str() {
            "start" => api::not_a_coroutine(&LUA, &name, &got(&value)),
            "wait" => api::outside_coroutine(&LUA, &name),
            "start_name" => api::not_a_string(&name, "name", &got(&value)),
            _ => return Err(located(lua, format!("unknown misuse {kind:?}"))),
        })
    });
    prim!("stop", |lua, ctx, id: Value| {
        let id = match id {
            Value::Integer(i) if i >= 0 => i as u64,
            other => {
                return Err(located(
                    lua,
                    format!(
                        "ecs.stop: expected a coroutine id (the number ecs.start returned), got {}",
                        describe(&other)
                    ),
                ));
            }
        };
        ctx.with_host(|h| h.stop_coroutine(id))?
            .map_err(|e| api_err(lua, "ecs.stop", e))
    });
    prim!("check_wait", |lua, ctx, args: (String, Value)| {
        let value = from_lua(&args.1, ctx.value_items.get()).map_err(|e| located(lua, e))?;
        match HostState::check_wait(&args.0, &value).map_err(|e| located(lua, e))? {
            WaitRequest::Frames(n) => Ok(Value::Integer(n as i64)),
            WaitRequest::Seconds(s) => Ok(Value::Number(s)),
            WaitRequest::Event(name) => Ok(Value::String(lua.create_string(&name)?)),
            WaitRequest::NextFrame => Ok(Value::Integer(1)),
        }
    });
    prim!("query_done", |_lua, ctx, token: u32| {
        if ctx.queries.borrow_mut().remove(&token).is_some() {
            ctx.with_host(|h| h.end_defer())?;
        }
        Ok(())
    });

    let exports: Table = lua.load(PRELUDE).set_name("=ecscope prelude").call(p)?;
    *ctx.make_runner.borrow_mut() = Some(exports.get("make_runner")?);
    *ctx.make_batch_runner.borrow_mut() = Some(exports.get("make_batch_runner")?);
    *ctx.exports.borrow_mut() = Some(exports);

    // Scripts get the standard libraries of the contract; `ffi` stays the
    // runtime's own.
    let package: Table = lua.globals().get("package")?;
    package.get::<Table>("loaded")?.set("ffi", Value::Nil)?;
    package.get::<Table>("preload")?.set("ffi", Value::Nil)?;
    lua.globals().set("ffi", Value::Nil)?;
    package.get::<Table>("loaded")?.set("debug", Value::Nil)?;
    lua.globals().set("debug", Value::Nil)?;
    Ok(())
}

/// Keeps a system's function and the prelude's wrapper around it (the
/// generated per-entity loop, or the batch view builder) made by `maker`.
fn keep_with_runner(
    ctx: &Ctx,
    maker: &RefCell<Option<Function>>,
    f: &Function,
    spec: &QuerySpec,
    access: Option<&Access>,
) -> mlua::Result<FnHandle> {
    let handle = ctx.keep_fn(f.clone());
    let keys: Vec<i64> = spec.with.iter().map(|k| k.0 as i64).collect();
    // Components the system lists under reads get proxies that refuse
    // assignment.
    let read_only: Vec<bool> = spec
        .with
        .iter()
        .map(|k| access.is_some_and(|a| !a.writes(*k)))
        .collect();
    let maker = maker.borrow().clone();
    if let Some(maker) = maker {
        let runner: Function = maker.call((f.clone(), keys, read_only))?;
        ctx.runners.borrow_mut().insert(handle.0, runner);
    }
    Ok(handle)
}

fn log(lua: &Lua, ctx: &Ctx, message: String) -> mlua::Result<()> {
    let line = caller_location(lua).map(|(_, l)| l).unwrap_or(0);
    let script = ctx.script;
    ctx.with_host(|h| h.log(script, line, message))?
        .map_err(|e| api_err(lua, "print", e))
}

/// Puts a searcher in front of `package.loaders` that finds `require`d
/// modules in the project's `scripts/` folder and names their chunks by
/// their project path, so errors in them read `scripts/util.lua:3`.
fn install_searcher(lua: &Lua, ctx: &Rc<Ctx>) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    let loaders: Table = package.get("loaders")?;
    let ctx = Rc::clone(ctx);
    let searcher = lua.create_function(move |lua, name: String| -> mlua::Result<Value> {
        let rel = name.replace('.', "/");
        let candidates = [
            format!("scripts/{rel}.lua"),
            format!("scripts/{rel}/init.lua"),
        ];
        for candidate in &candidates {
            let full = ctx.root.join(candidate);
            if !full.is_file() {
                continue;
            }
            // Modules are the project's own: a link out of it is refused.
            let root = ctx.root.canonicalize().unwrap_or_else(|_| ctx.root.clone());
            if let Err(problem) = super::sandbox::inside(&root, candidate) {
                return Err(located(
                    lua,
                    format!("require({name:?}): {candidate} is {problem}"),
                ));
            }
            let bytes = std::fs::read(&full)
                .map_err(|e| mlua::Error::runtime(format!("cannot read {candidate}: {e}")))?;
            let text = crate::scripting::check_source(&bytes).map_err(|f| {
                mlua::Error::runtime(format!(
                    "{candidate}:{}: {}",
                    f.line.unwrap_or(1),
                    f.message
                ))
            })?;
            ctx.deps.borrow_mut().insert(candidate.clone());
            let f = lua
                .load(text)
                .set_name(format!("@{candidate}"))
                .set_mode(mlua::chunk::ChunkMode::Text)
                .into_function()?;
            return Ok(Value::Function(f));
        }
        Ok(Value::String(lua.create_string(format!(
            "\n\tno file '{}'\n\tno file '{}'",
            candidates[0], candidates[1]
        ))?))
    })?;
    // Lua 5.1 keeps searchers in package.loaders; slot 1 is preload.
    let table: Function = lua.globals().get::<Table>("table")?.get("insert")?;
    table.call::<()>((loaders, 2, searcher))?;
    Ok(())
}
