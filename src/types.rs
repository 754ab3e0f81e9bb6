//! `ecscope types DIR`: editor typings for the `ecs` API and for each
//! component the project declares: LuaLS/EmmyLua annotations (`---@meta`)
//! and a Python stub (`.pyi`), written to `.ecscope/types/`. The project's
//! scripts are loaded (not run past their load) to learn the components
//! they declare; a script that fails to load leaves the API typings whole.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::project::Project;
use crate::runtime::Runtime;
use crate::runtime::components::{ComponentDef, FieldKind};

/// The `ecs` API's functions and fields, as the typings declare them
/// (tests check that each appears): [`crate::ecs::api::FUNCTIONS`] and
/// [`crate::ecs::api::FIELDS`].
pub fn api() -> impl Iterator<Item = &'static str> {
    crate::ecs::api::FUNCTIONS
        .iter()
        .map(|f| f.name)
        .chain(crate::ecs::api::FIELDS.iter().copied())
}

/// A component as the typings show it: name and (field, Lua type,
/// Python type).
struct Component {
    name: String,
    fields: Vec<(String, &'static str, &'static str)>,
}

fn components_of(defs: &[ComponentDef]) -> Vec<Component> {
    defs.iter()
        // `Name` is a plain string, not a table of fields.
        .filter(|d| d.name != "Name")
        .map(|d| Component {
            name: d.name.clone(),
            fields: d
                .fields
                .iter()
                .map(|f| {
                    let (lua, py) = match f.kind {
                        FieldKind::Float => ("number", "float"),
                        FieldKind::Int => ("integer", "int"),
                        FieldKind::Bool => ("boolean", "bool"),
                        FieldKind::Str => ("string", "str"),
                        FieldKind::List => ("number[]", "list[float]"),
                    };
                    (f.name.clone(), lua, py)
                })
                .collect(),
        })
        .collect()
}

/// Writes the typings of the project in `dir`; returns the files written
/// and, when a script failed to load, what went wrong (its components may
/// be missing; the API is whole).
pub fn write(dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    let project = Project::open(dir).map_err(|e| e.to_string())?;
    let root = project.root.clone();
    let runtime = Runtime::open(project);
    let problems: Vec<String> = runtime
        .view()
        .scripts
        .iter()
        .filter(|s| !matches!(s.status, crate::runtime::ScriptStatus::Running))
        .map(|s| format!("{} did not load: its components may be missing", s.path))
        .collect();
    let components = components_of(runtime.host().borrow().world.defs());
    drop(runtime);
    let out = root.join(".ecscope").join("types");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let lua = out.join("ecs.lua");
    let py = out.join("ecs.pyi");
    for (path, text) in [
        (&lua, lua_typings(&components)),
        (&py, python_stub(&components)),
    ] {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok((vec![lua, py], problems))
}

/// The LuaLS annotations.
fn lua_typings(components: &[Component]) -> String {
    let mut s = String::from(
        "---@meta ecs\n-- Written by `ecscope types`: the ecs API and this project's components.\n\n",
    );
    for c in components {
        let _ = writeln!(s, "---@class {}", c.name);
        for (field, lua, _) in &c.fields {
            let _ = writeln!(s, "---@field {field} {lua}");
        }
        s.push('\n');
    }
    let names: Vec<String> = components
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let _ = writeln!(
        s,
        "---@alias ecs.ComponentName {}\n",
        if names.is_empty() {
            "string".to_string()
        } else {
            names.join("|") + "|string"
        }
    );
    s.push_str(LUA_API);
    s
}

/// The Python stub.
fn python_stub(components: &[Component]) -> String {
    let mut s = String::from(PY_HEAD);
    for c in components {
        let _ = writeln!(s, "class {}(Component):", c.name);
        if c.fields.is_empty() {
            s.push_str("    pass\n");
        }
        for (field, _, py) in &c.fields {
            let _ = writeln!(s, "    {field}: {py}");
        }
        s.push_str("\n\n");
    }
    s.push_str(PY_API);
    s
}

const LUA_API: &str = r#"---@class ecs.QueryOptions
---@field without? string[]

---A system's options: its query's `without`, and the components it
---touches beyond its query (SCRIPT_API §5).
---@class ecs.SystemOptions: ecs.QueryOptions
---@field reads? ecs.ComponentName[]
---@field writes? ecs.ComponentName[]

---@class ecs
---@field persist table<string, any> Kept when this script is hot-reloaded.
ecs = {}

---Declares a script component with its fields' defaults.
---@param name string
---@param defaults table<string, any>
function ecs.component(name, defaults) end

---A new entity with these components (name -> value); returns its id.
---@param components table<ecs.ComponentName, any>
---@return integer
function ecs.spawn(components) end

---@param id integer
function ecs.despawn(id) end

---@param id integer
---@return boolean
function ecs.exists(id) end

---A copy of a component, or nil.
---@param id integer
---@param name ecs.ComponentName
---@return any
function ecs.get(id, name) end

---Inserts or replaces a component.
---@param id integer
---@param name ecs.ComponentName
---@param value any
function ecs.set(id, name, value) end

---@param id integer
---@param name ecs.ComponentName
function ecs.remove(id, name) end

---@param id integer
---@param name ecs.ComponentName
---@return boolean
function ecs.has(id, name) end

---Iterates `id, c1, c2, ...` over the entities that have all names, in id order.
---@param names ecs.ComponentName[]
---@param opts? ecs.QueryOptions
---@return fun(): integer, any, any, any, any, any
function ecs.query(names, opts) end

---@param names ecs.ComponentName[]
---@param opts? ecs.QueryOptions
---@return integer
function ecs.count(names, opts) end

---Every frame: `fn(id, c1, c2, ..., dt)` for each match, or `fn(dt)` once.
---@overload fun(name: string, fn: fun(dt: number), opts?: ecs.SystemOptions)
---@param name string
---@param names ecs.ComponentName[]
---@param fn fun(id: integer, ...: any)
---@param opts? ecs.SystemOptions
function ecs.system(name, names, fn, opts) end

---Every frame, `fn(view, dt)` with one number array per numeric field.
---@param name string
---@param names ecs.ComponentName[]
---@param fn fun(view: any, dt: number)
---@param opts? ecs.SystemOptions
function ecs.batch_system(name, names, fn, opts) end

---Sends an event to every script, in both languages.
---@param event string
---@param payload? any
function ecs.emit(event, payload) end

---`fn(payload)` for each event of that name, at the start of the next frame.
---@param event string
---@param fn fun(payload: any)
function ecs.on(event, fn) end

---Starts a coroutine; returns its id.
---@param name string
---@param fn function
---@param ... any
---@return integer
function ecs.start(name, fn, ...) end

---@param id integer
function ecs.stop(id) end

---Inside a coroutine: resumes `n` frames later.
---@param n integer
function ecs.wait_frames(n) end

---Inside a coroutine: resumes once `s` seconds of simulated time passed.
---@param s number
function ecs.wait_seconds(s) end

---Inside a coroutine: resumes with the payload of the next such event.
---@param event string
---@return any
function ecs.wait_event(event) end

---Frames completed before the current one.
---@return integer
function ecs.frame() end

---`ecs.frame() * fixed_dt`.
---@return number
function ecs.time() end

---The fixed step.
---@return number
function ecs.dt() end

---Deterministic, from `world.seed`: a number in [0, 1).
---@return number
function ecs.random() end

---@param a number
---@param b number
---@return number
function ecs.random_range(a, b) end

---To the console and the event stream, tagged with script and line.
---@param ... any
function ecs.log(...) end
"#;

const PY_HEAD: &str = r#""""Written by `ecscope types`: the ecs API and this project's components."""
from typing import Any, Callable, Iterator, TypeVar, overload

_F = TypeVar("_F", bound=Callable[..., Any])


class Component:
    """A live component: fields read and written as attributes or items."""

    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: Any) -> None: ...
    def __getitem__(self, name: str) -> Any: ...
    def __setitem__(self, name: str, value: Any) -> None: ...


class Wait:
    """What a coroutine yields to wait."""


"#;

const PY_API: &str = r#"persist: dict[str, Any]
"""Kept when this script is hot-reloaded."""


def component(name: str, defaults: dict[str, Any]) -> None: ...
def spawn(components: dict[str, Any]) -> int: ...
def despawn(id: int) -> None: ...
def exists(id: int) -> bool: ...
def get(id: int, name: str) -> Any: ...
def set(id: int, name: str, value: Any) -> None: ...
def remove(id: int, name: str) -> None: ...
def has(id: int, name: str) -> bool: ...
def query(names: str | list[str] | tuple[str, ...], without: list[str] | None = None) -> Iterator[Any]: ...
def count(names: str | list[str] | tuple[str, ...], without: list[str] | None = None) -> int: ...
@overload
def system(name: str, *, reads: list[str] | tuple[str, ...] | None = None, writes: list[str] | tuple[str, ...] | None = None) -> Callable[[_F], _F]: ...
@overload
def system(name: str, names: list[str] | tuple[str, ...], *, without: list[str] | None = None, reads: list[str] | tuple[str, ...] | None = None, writes: list[str] | tuple[str, ...] | None = None) -> Callable[[_F], _F]: ...
@overload
def system(name: str, names: list[str] | tuple[str, ...], fn: _F, *, without: list[str] | None = None, reads: list[str] | tuple[str, ...] | None = None, writes: list[str] | tuple[str, ...] | None = None) -> _F: ...
@overload
def system(name: str, fn: _F, *, reads: list[str] | tuple[str, ...] | None = None, writes: list[str] | tuple[str, ...] | None = None) -> _F: ...
@overload
def batch_system(name: str, names: list[str] | tuple[str, ...], *, without: list[str] | None = None, reads: list[str] | tuple[str, ...] | None = None, writes: list[str] | tuple[str, ...] | None = None) -> Callable[[_F], _F]: ...
@overload
def batch_system(name: str, names: list[str] | tuple[str, ...], fn: _F, *, without: list[str] | None = None, reads: list[str] | tuple[str, ...] | None = None, writes: list[str] | tuple[str, ...] | None = None) -> _F: ...
def emit(event: str, payload: Any = None) -> None: ...
@overload
def on(event: str) -> Callable[[_F], _F]: ...
@overload
def on(event: str, fn: _F) -> _F: ...
def start(name: str, fn: Callable[..., Any], *args: Any) -> int: ...
def stop(id: int) -> bool: ...
def wait_frames(n: int) -> Wait: ...
def wait_seconds(s: float) -> Wait: ...
def wait_event(event: str) -> Wait: ...
def frame() -> int: ...
def time() -> float: ...
def dt() -> float: ...
def random() -> float: ...
def random_range(a: float, b: float) -> float: ...
def log(*args: Any) -> None: ...
"#;
