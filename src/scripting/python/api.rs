//! The `ecs` object a Python script imports, its live components and query
//! iterators. Each script gets its own `ecs` object bound to its own
//! context, so several projects can share the one interpreter.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use pyo3::exceptions::{PyAttributeError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use super::convert::{from_py, to_py, type_name};
use crate::ecs::api::{self, Got};
use crate::ecs::components::{CompKey, FieldKind};
use crate::ecs::coroutines::WaitRequest;
use crate::scripting::host::{Access, ApiError, HostState, QuerySpec};
use crate::scripting::value::ValueError;
use crate::scripting::{FnHandle, ScriptId, ScriptValue, SharedHost};

/// Python source files of the runtime's own code start with this; errors
/// and log lines are placed at the first frame outside it.
pub const INTERNAL_FILE: &str = "<ecscope";

/// A component's numeric fields: name, index in the numeric block, kind.
type Offsets = Arc<[(String, usize, FieldKind)]>;

/// What every binding of one Python script needs.
pub struct PyCtx {
    /// The shared host.
    pub host: SharedHost,
    /// `[limits] value_items`: the most items a value from the script may
    /// hold.
    pub value_items: Cell<u64>,
    /// This script.
    pub script: ScriptId,
    /// Its manifest path.
    pub path: String,
    /// The project folder.
    pub root: PathBuf,
    /// Functions registered with `ecs.system`/`ecs.on`, by [`FnHandle`].
    pub fns: RefCell<Vec<Py<PyAny>>>,
    /// Project modules this script imported (relative paths).
    pub deps: Arc<std::sync::Mutex<BTreeSet<String>>>,
    /// `ecs.persist`.
    pub persist: RefCell<Py<PyDict>>,
    /// Numeric fields per component (name, slot, kind), cached.
    offsets: RefCell<HashMap<CompKey, Offsets>>,
    /// Query loops still open in the current call (for the defer depth).
    open_queries: Cell<u32>,
    /// Generators of live coroutines, by handle.
    pub coroutines: RefCell<HashMap<u32, CoroutineObject>>,
    next_coroutine: Cell<u32>,
    /// Set while a coroutine step runs (the wait functions check it).
    pub in_coroutine: Cell<bool>,
}

/// A coroutine's generator, and whether it has taken its first step.
pub struct CoroutineObject {
    /// The generator.
    pub generator: Py<PyAny>,
    /// False until the first resume.
    pub started: bool,
}

impl PyCtx {
    /// A context for one script.
    pub fn new(
        host: SharedHost,
        script: ScriptId,
        path: &str,
        root: PathBuf,
        persist: Py<PyDict>,
    ) -> PyCtx {
        PyCtx {
            host,
            value_items: Cell::new(crate::project::DEFAULT_VALUE_ITEMS),
            script,
            path: path.to_string(),
            root,
            fns: RefCell::default(),
            deps: Arc::default(),
            persist: RefCell::new(persist),
            offsets: RefCell::default(),
            open_queries: Cell::new(0),
            coroutines: RefCell::default(),
            next_coroutine: Cell::new(0),
            in_coroutine: Cell::new(false),
        }
    }

    /// Runs `f` with the host borrowed; an error if it is already borrowed.
    pub(crate) fn with_host<R>(&self, f: impl FnOnce(&mut HostState) -> R) -> PyResult<R> {
        let mut host = self
            .host
            .try_borrow_mut()
            .map_err(|_| PyRuntimeError::new_err("the ecs API was re-entered while busy"))?;
        Ok(f(&mut host))
    }

    fn keep_fn(&self, f: Py<PyAny>) -> FnHandle {
        let mut fns = self.fns.borrow_mut();
        fns.push(f);
        FnHandle(fns.len() as u32 - 1)
    }

    fn offsets(&self, key: CompKey) -> PyResult<Offsets> {
        if let Some(o) = self.offsets.borrow().get(&key) {
            return Ok(Arc::clone(o));
        }
        let offsets: Offsets = self
            .with_host(|h| {
                let def = h.world.def(key);
                def.numeric_offsets()
                    .into_iter()
                    .map(|(name, i)| {
                        let kind = def.fields[def.field_index(&name).unwrap_or(0)].kind;
                        (name, i, kind)
                    })
                    .collect::<Vec<_>>()
            })?
            .into();
        self.offsets.borrow_mut().insert(key, Arc::clone(&offsets));
        Ok(offsets)
    }

    /// What every live component of one component type shares; made once
    /// per system run or query, so each entity costs only a small copy.
    pub fn live_template(
        &self,
        py: Python<'_>,
        api: &Py<EcsApi>,
        key: CompKey,
    ) -> PyResult<LiveTemplate> {
        let (current_generation, read_only) =
            self.with_host(|h| (h.proxy_generation_ptr(), h.read_only(key)))?;
        Ok(LiveTemplate {
            key,
            read_only,
            current_generation: RawPtr(current_generation as *mut u32),
            offsets: self.offsets(key)?,
            owner: thread_mark(),
            api: api.clone_ref(py),
        })
    }

    /// Called when a call into the script ends: open query loops are over.
    pub fn end_call(&self) {
        self.open_queries.set(0);
    }
}

/// An error of the host's `ecs` semantics, as `call` raises it.
fn api_err(call: &'static str) -> impl Fn(ApiError) -> PyErr {
    move |e| PyValueError::new_err(api::in_call(call, &e.0))
}

/// A Python value as a message names it.
fn got(value: &Bound<'_, PyAny>) -> Got {
    let type_name = type_name(value);
    if let Ok(s) = value.cast::<PyString>() {
        return Got::string(type_name, &s.to_string_lossy());
    }
    let number = !value.is_instance_of::<PyBool>()
        && (value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>());
    let shown = number.then(|| value.repr().map(|r| r.to_string()).unwrap_or_default());
    Got::new(type_name, shown)
}

fn arg_id(value: &Bound<'_, PyAny>, call: &str) -> PyResult<u64> {
    if !value.is_instance_of::<PyBool>()
        && value.is_instance_of::<PyInt>()
        && let Ok(id) = value.extract::<u64>()
    {
        return Ok(id);
    }
    Err(PyTypeError::new_err(api::bad_entity_id(call, &got(value))))
}

/// Parameter `param` of `call` (as [`api::FUNCTIONS`] names it), which
/// takes a string.
fn arg_str(value: &Bound<'_, PyAny>, call: &str, param: &str) -> PyResult<String> {
    value
        .cast::<PyString>()
        .map(|s| s.to_string_lossy().into_owned())
        .map_err(|_| PyTypeError::new_err(api::not_a_string(call, param, &got(value))))
}

fn arg_value(value: &Bound<'_, PyAny>, call: &str, items: u64) -> PyResult<ScriptValue> {
    from_py(value, items).map_err(|e| PyTypeError::new_err(format!("{call}: {e}")))
}

/// Component names from a list/tuple of str (or one str).
fn names_of(value: &Bound<'_, PyAny>, call: &str) -> PyResult<Vec<String>> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(vec![s.to_string_lossy().into_owned()]);
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| arg_str(&item?, call, "a component name"))
            .collect();
    }
    Err(PyTypeError::new_err(api::not_names(
        &api::PYTHON,
        call,
        &got(value),
    )))
}

/// `reads=`/`writes=`: a list (or tuple) of component names; a single
/// name or anything else is refused, since a string is not a list.
fn access_list(
    value: Option<&Bound<'_, PyAny>>,
    field: &str,
    call: &str,
) -> PyResult<Option<Vec<String>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| arg_str(&item?, call, &format!("a component name in {field}")))
            .collect::<PyResult<Vec<_>>>()
            .map(Some);
    }
    Err(PyTypeError::new_err(format!(
        "{call}: {field} must be a list of component names such as [\"Position\"], got {}",
        type_name(value)
    )))
}

/// `without` from `opts` (a dict `{"without": [...]}`) or the keyword.
fn without_of(
    opts: Option<&Bound<'_, PyAny>>,
    without: Option<&Bound<'_, PyAny>>,
    call: &str,
) -> PyResult<Vec<String>> {
    let mut names = Vec::new();
    if let Some(opts) = opts.filter(|o| !o.is_none()) {
        let dict = opts.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{call}: options must be a dict such as {{\"without\": [\"Frozen\"]}}, got {}",
                type_name(opts)
            ))
        })?;
        for (k, v) in dict.iter() {
            let key = arg_str(&k, call, "an option name")?;
            if key == "reads" || key == "writes" {
                return Err(PyValueError::new_err(format!(
                    "{call}: {key} is a keyword in Python: {key}=[...], not an option in the dict"
                )));
            }
            if key != "without" {
                return Err(PyValueError::new_err(format!(
                    "{call}: unknown option {key:?} (options: without)"
                )));
            }
            names.extend(names_of(&v, call)?);
        }
    }
    if let Some(w) = without.filter(|w| !w.is_none()) {
        names.extend(names_of(w, call)?);
    }
    Ok(names)
}

/// A script's context, usable only on the thread that runs the scripts.
/// A script may hand `ecs` or `print` to a thread it starts; there, each
/// use raises a Python error instead of panicking (pyo3's `unsendable`
/// panics), so the script sees what it did wrong and the run reports it.
pub struct OwnedCtx {
    ctx: std::mem::ManuallyDrop<Rc<PyCtx>>,
    owner: usize,
}

// SAFETY: the `Rc` is only reached through `OwnedCtx::get`, which refuses
// every thread but the one that made it, and is dropped only there (a drop
// elsewhere leaks it), so its count is never touched from two threads.
unsafe impl Send for OwnedCtx {}
// SAFETY: as above.
unsafe impl Sync for OwnedCtx {}

impl OwnedCtx {
    fn new(ctx: Rc<PyCtx>) -> OwnedCtx {
        OwnedCtx {
            ctx: std::mem::ManuallyDrop::new(ctx),
            owner: thread_mark(),
        }
    }

    fn get(&self) -> PyResult<&Rc<PyCtx>> {
        if self.owner != thread_mark() {
            return Err(PyRuntimeError::new_err(
                "ecs and print can only be used on the thread that runs the scripts, not from a thread the script started",
            ));
        }
        Ok(&self.ctx)
    }
}

impl Drop for OwnedCtx {
    fn drop(&mut self) {
        if self.owner == thread_mark() {
            // SAFETY: dropped once, on the owner thread.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.ctx) }
        }
    }
}

/// The `ecs` object of one script.
#[pyclass(module = "ecs", name = "Ecs")]
pub struct EcsApi {
    owned: OwnedCtx,
}

impl EcsApi {
    /// An `ecs` object for a script.
    pub fn new(ctx: Rc<PyCtx>) -> EcsApi {
        EcsApi {
            owned: OwnedCtx::new(ctx),
        }
    }

    fn ctx(&self) -> PyResult<&Rc<PyCtx>> {
        self.owned.get()
    }

    fn wait(&self, call: &str, kind: &str, value: &Bound<'_, PyAny>) -> PyResult<WaitObject> {
        if !self.ctx()?.in_coroutine.get() {
            return Err(PyRuntimeError::new_err(api::outside_coroutine(
                &api::PYTHON,
                call,
            )));
        }
        let value = if value.is_instance_of::<PyBool>() {
            return Err(PyTypeError::new_err(format!("{call}: got a bool")));
        } else {
            arg_value(value, call, self.ctx()?.value_items.get())?
        };
        HostState::check_wait(kind, &value)
            .map(|request| WaitObject { request })
            .map_err(api_err("ecs.wait"))
    }

    fn spec(
        &self,
        names: &Bound<'_, PyAny>,
        opts: Option<&Bound<'_, PyAny>>,
        without: Option<&Bound<'_, PyAny>>,
        call: &str,
    ) -> PyResult<QuerySpec> {
        let with = names_of(names, call)?;
        let without = without_of(opts, without, call)?;
        self.ctx()?
            .with_host(|h| h.query_spec(&with, &without))?
            .map_err(|e| PyValueError::new_err(format!("{call}: {}", e.0)))
    }

    /// A system's declared access (SCRIPT_API §5), or `None` when it
    /// declares neither `reads` nor `writes`.
    fn access(
        &self,
        query: Option<&QuerySpec>,
        reads: Option<&Bound<'_, PyAny>>,
        writes: Option<&Bound<'_, PyAny>>,
        call: &str,
    ) -> PyResult<Option<Access>> {
        let (reads, writes) = (
            access_list(reads, "reads", call)?,
            access_list(writes, "writes", call)?,
        );
        self.ctx()?
            .with_host(|h| h.system_access(query, reads.as_deref(), writes.as_deref()))?
            .map_err(|e| PyValueError::new_err(format!("{call}: {}", e.0)))
    }
}

#[pymethods]
impl EcsApi {
    /// `ecs.component(name, defaults)`.
    #[pyo3(signature = (name, defaults=None))]
    fn component(
        &self,
        name: &Bound<'_, PyAny>,
        defaults: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let name = arg_str(name, "ecs.component", "name")?;
        let defaults = match defaults {
            Some(d) => arg_value(
                d,
                &format!("ecs.component({name:?})"),
                self.ctx()?.value_items.get(),
            )?,
            None => ScriptValue::Nil,
        };
        let script = self.ctx()?.script;
        self.ctx()?
            .with_host(|h| h.declare_component(script, &name, defaults))?
            .map_err(api_err("ecs.component"))
    }

    /// `ecs.spawn(components) -> id`.
    fn spawn(&self, components: &Bound<'_, PyAny>) -> PyResult<u64> {
        if !components.is_instance_of::<PyDict>() {
            return Err(PyTypeError::new_err(api::not_components(
                &api::PYTHON,
                &got(components),
            )));
        }
        let value = arg_value(components, "ecs.spawn", self.ctx()?.value_items.get())?;
        let script = self.ctx()?.script;
        // An entity id depends on what systems before this one spawned.
        self.ctx()?.host.wait_turn(script);
        self.ctx()?
            .with_host(|h| h.spawn_by(script, value))?
            .map_err(api_err("ecs.spawn"))
    }

    /// `ecs.despawn(id)`.
    fn despawn(&self, id: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = arg_id(id, "ecs.despawn")?;
        self.ctx()?
            .with_host(|h| h.despawn(id))?
            .map_err(api_err("ecs.despawn"))
    }

    /// `ecs.exists(id)`.
    fn exists(&self, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let id = arg_id(id, "ecs.exists")?;
        self.ctx()?.with_host(|h| h.exists(id))
    }

    /// `ecs.get(id, name)`: a dict copy, or `None`.
    fn get<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
        name: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = arg_id(id, "ecs.get")?;
        let name = arg_str(name, "ecs.get", "name")?;
        let value = self
            .ctx()?
            .with_host(|h| h.get(id, &name))?
            .map_err(api_err("ecs.get"))?;
        to_py(py, &value)
    }

    /// `ecs.set(id, name, value)`.
    fn set(
        &self,
        id: &Bound<'_, PyAny>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let id = arg_id(id, "ecs.set")?;
        let name = arg_str(name, "ecs.set", "name")?;
        let value = arg_value(
            value,
            &format!("ecs.set({id}, {name:?})"),
            self.ctx()?.value_items.get(),
        )?;
        self.ctx()?
            .with_host(|h| h.set(id, &name, value))?
            .map_err(api_err("ecs.set"))
    }

    /// `ecs.remove(id, name)`.
    fn remove(&self, id: &Bound<'_, PyAny>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = arg_id(id, "ecs.remove")?;
        let name = arg_str(name, "ecs.remove", "name")?;
        self.ctx()?
            .with_host(|h| h.remove(id, &name))?
            .map_err(api_err("ecs.remove"))
    }

    /// `ecs.has(id, name)`.
    fn has(&self, id: &Bound<'_, PyAny>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        let id = arg_id(id, "ecs.has")?;
        let name = arg_str(name, "ecs.has", "name")?;
        self.ctx()?
            .with_host(|h| h.has(id, &name))?
            .map_err(api_err("ecs.has"))
    }

    /// `ecs.query(names, opts=None, *, without=None)`: yields
    /// `(id, c1, c2, ...)` with live components, in id order.
    #[pyo3(signature = (names, opts=None, *, without=None))]
    fn query(
        slf: &Bound<'_, Self>,
        names: &Bound<'_, PyAny>,
        opts: Option<&Bound<'_, PyAny>>,
        without: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<QueryIter> {
        let this = slf.borrow();
        let spec = this.spec(names, opts, without, "ecs.query")?;
        let ctx = this.ctx()?;
        let (ids, ptrs, generation) = ctx.with_host(|h| {
            h.begin_defer();
            let ids = h.script_query(&spec);
            let ptrs = h.numeric_ptrs(&ids, &spec.with);
            (ids, ptrs, h.proxy_generation())
        })?;
        ctx.open_queries.set(ctx.open_queries.get() + 1);
        let api = slf.clone().unbind();
        Ok(QueryIter {
            ids,
            ptrs,
            next: 0,
            generation,
            open: true,
            templates: spec
                .with
                .iter()
                .map(|&key| ctx.live_template(slf.py(), &api, key))
                .collect::<PyResult<_>>()?,
            keys: spec.with,
            ctx: Rc::clone(ctx),
        })
    }

    /// `ecs.count(names, opts=None, *, without=None)`.
    #[pyo3(signature = (names, opts=None, *, without=None))]
    fn count(
        &self,
        names: &Bound<'_, PyAny>,
        opts: Option<&Bound<'_, PyAny>>,
        without: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let spec = self.spec(names, opts, without, "ecs.count")?;
        self.ctx()?.with_host(|h| h.query_ids(&spec).len())
    }

    /// `ecs.system(name, fn)` or `ecs.system(name, names, fn)`; without the
    /// function, returns a decorator.
    #[pyo3(signature = (name, names_or_fn=None, func=None, opts=None, *, without=None, reads=None, writes=None))]
    #[allow(clippy::too_many_arguments)]
    fn system<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyAny>,
        names_or_fn: Option<&Bound<'py, PyAny>>,
        func: Option<&Bound<'py, PyAny>>,
        opts: Option<&Bound<'py, PyAny>>,
        without: Option<&Bound<'py, PyAny>>,
        reads: Option<&Bound<'py, PyAny>>,
        writes: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = arg_str(name, "ecs.system", "name")?;
        let (query, f) = match (names_or_fn, func) {
            (Some(f), None) if f.is_callable() => (None, Some(f.clone())),
            (Some(other), None)
                if !(other.is_instance_of::<PyList>()
                    || other.is_instance_of::<PyTuple>()
                    || other.is_instance_of::<PyString>()) =>
            {
                return Err(PyTypeError::new_err(api::bad_system_args(
                    &api::PYTHON,
                    &name,
                    &got(other),
                )));
            }
            (Some(names), f) => (
                Some(self.spec(names, opts, without, "ecs.system")?),
                f.cloned(),
            ),
            // `@ecs.system("name")` decorates a once-per-frame system.
            (None, f) => (None, f.cloned()),
        };
        let access = self.access(query.as_ref(), reads, writes, "ecs.system")?;
        let registration = Registration::System {
            ctx: Rc::clone(self.ctx()?),
            name,
            query,
            access,
        };
        match f {
            Some(f) => {
                registration.register(&f)?;
                Ok(f)
            }
            None => Ok(Bound::new(
                py,
                Decorator {
                    registration: RefCell::new(Some(registration)),
                },
            )?
            .into_any()),
        }
    }

    /// `ecs.batch_system(name, names, fn)`: `fn(view, dt)` once a frame
    /// over arrays of the matched entities' numeric fields; without the
    /// function, returns a decorator.
    #[pyo3(signature = (name, names, func=None, opts=None, *, without=None, reads=None, writes=None))]
    #[allow(clippy::too_many_arguments)]
    fn batch_system<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyAny>,
        names: &Bound<'py, PyAny>,
        func: Option<&Bound<'py, PyAny>>,
        opts: Option<&Bound<'py, PyAny>>,
        without: Option<&Bound<'py, PyAny>>,
        reads: Option<&Bound<'py, PyAny>>,
        writes: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = arg_str(name, "ecs.batch_system", "name")?;
        let query = self.spec(names, opts, without, "ecs.batch_system")?;
        let access = self.access(Some(&query), reads, writes, "ecs.batch_system")?;
        let registration = Registration::BatchSystem {
            ctx: Rc::clone(self.ctx()?),
            name,
            query,
            access,
        };
        registration.now_or_as_decorator(py, func)
    }

    /// `ecs.emit(event, payload=None)`.
    #[pyo3(signature = (event, payload=None))]
    fn emit(&self, event: &Bound<'_, PyAny>, payload: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let event = arg_str(event, "ecs.emit", "event")?;
        let payload = match payload {
            Some(p) => from_py(p, self.ctx()?.value_items.get())
                .map_err(|e| PyTypeError::new_err(api::bad_payload(&event, &e.to_string())))?,
            None => ScriptValue::Nil,
        };
        let script = self.ctx()?.script;
        self.ctx()?
            .with_host(|h| h.emit(script, &event, payload))?
            .map_err(api_err("ecs.emit"))
    }

    /// `ecs.on(event, fn)`; without the function, returns a decorator.
    #[pyo3(signature = (event, func=None))]
    fn on<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
        func: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let event = arg_str(event, "ecs.on", "event")?;
        let registration = Registration::Handler {
            ctx: Rc::clone(self.ctx()?),
            event,
        };
        registration.now_or_as_decorator(py, func)
    }

    /// `ecs.log(*args)`: to the console and the event stream.
    #[pyo3(signature = (*args))]
    fn log(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        let parts: Vec<String> = args
            .iter()
            .map(|a| a.str().map(|s| s.to_string()))
            .collect::<PyResult<_>>()?;
        log(py, self.ctx()?, parts.join(" "))
    }

    /// `ecs.random()`.
    fn random(&self) -> PyResult<f64> {
        let ctx = self.ctx()?;
        let script = ctx.script;
        ctx.with_host(|h| h.random(script))
    }

    /// `ecs.random_range(a, b)`.
    fn random_range(&self, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<f64> {
        let num = |v: &Bound<'_, PyAny>| {
            if v.is_instance_of::<PyBool>()
                || !(v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>())
            {
                return Err(PyTypeError::new_err(format!(
                    "ecs.random_range: bounds must be numbers, got {}",
                    type_name(v)
                )));
            }
            v.extract::<f64>()
        };
        let (a, b) = (num(a)?, num(b)?);
        let script = self.ctx()?.script;
        self.ctx()?
            .with_host(|h| h.random_range(script, a, b))?
            .map_err(api_err("ecs.random_range"))
    }

    /// `ecs.frame()`.
    fn frame(&self) -> PyResult<u64> {
        self.ctx()?.with_host(|h| h.frame())
    }

    /// `ecs.time()`.
    fn time(&self) -> PyResult<f64> {
        self.ctx()?.with_host(|h| h.time())
    }

    /// `ecs.dt()`.
    fn dt(&self) -> PyResult<f64> {
        self.ctx()?.with_host(|h| h.dt())
    }

    /// `ecs.start(name, fn, *args) -> id`: `fn` is a generator function (or
    /// a generator); each step runs until its next `yield`.
    #[pyo3(signature = (name, func, *args))]
    fn start(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        func: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<u64> {
        let name = arg_str(name, "ecs.start", "name")?;
        let generator_type = py.import("types")?.getattr("GeneratorType")?;
        let generator = if func.is_instance(&generator_type)? {
            func.clone()
        } else if func.is_callable() {
            let made = func.call1(args)?;
            if !made.is_instance(&generator_type)? {
                return Err(PyTypeError::new_err(format!(
                    "ecs.start({name:?}, ...): expected a generator function (a def with yield), but calling it returned {}",
                    type_name(&made)
                )));
            }
            made
        } else {
            return Err(PyTypeError::new_err(api::not_a_coroutine(
                &api::PYTHON,
                &name,
                &got(func),
            )));
        };
        let handle = self.ctx()?.next_coroutine.get() + 1;
        self.ctx()?.next_coroutine.set(handle);
        self.ctx()?.coroutines.borrow_mut().insert(
            handle,
            CoroutineObject {
                generator: generator.unbind(),
                started: false,
            },
        );
        let script = self.ctx()?.script;
        self.ctx()?.host.wait_turn(script);
        self.ctx()?
            .with_host(|h| h.start_coroutine(script, FnHandle(handle), &name))
    }

    /// `ecs.stop(id)`: true when it was running; false when it had ended.
    fn stop(&self, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let id = arg_id(id, "ecs.stop").map_err(|_| {
            PyTypeError::new_err(format!(
                "ecs.stop: expected a coroutine id (the number ecs.start returned), got {} {}",
                type_name(id),
                id.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?;
        self.ctx()?
            .with_host(|h| h.stop_coroutine(id))?
            .map_err(api_err("ecs.stop"))
    }

    /// `yield ecs.wait_frames(n)` inside a coroutine.
    fn wait_frames(&self, n: &Bound<'_, PyAny>) -> PyResult<WaitObject> {
        self.wait("ecs.wait_frames", "frames", n)
    }

    /// `yield ecs.wait_seconds(s)` inside a coroutine.
    fn wait_seconds(&self, s: &Bound<'_, PyAny>) -> PyResult<WaitObject> {
        self.wait("ecs.wait_seconds", "seconds", s)
    }

    /// `payload = yield ecs.wait_event(name)` inside a coroutine.
    fn wait_event(&self, event: &Bound<'_, PyAny>) -> PyResult<WaitObject> {
        self.wait("ecs.wait_event", "event", event)
    }

    /// `ecs.persist`: a dict this script keeps.
    #[getter]
    fn persist(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        Ok(self.ctx()?.persist.borrow().clone_ref(py))
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("<ecs API of {}>", self.ctx()?.path))
    }
}

/// A system or handler waiting for its function.
enum Registration {
    System {
        ctx: Rc<PyCtx>,
        name: String,
        query: Option<QuerySpec>,
        access: Option<Access>,
    },
    BatchSystem {
        ctx: Rc<PyCtx>,
        name: String,
        query: QuerySpec,
        access: Option<Access>,
    },
    Handler {
        ctx: Rc<PyCtx>,
        event: String,
    },
}

impl Registration {
    /// Registers `func` now and returns it, or, without one, returns a
    /// decorator that registers the function it is applied to.
    fn now_or_as_decorator<'py>(
        self,
        py: Python<'py>,
        func: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match func {
            Some(f) => {
                self.register(f)?;
                Ok(f.clone())
            }
            None => Ok(Bound::new(
                py,
                Decorator {
                    registration: RefCell::new(Some(self)),
                },
            )?
            .into_any()),
        }
    }

    fn register(&self, f: &Bound<'_, PyAny>) -> PyResult<()> {
        let (ctx, what) = match self {
            Registration::System { ctx, name, .. } => (ctx, format!("ecs.system({name:?}, ...)")),
            Registration::BatchSystem { ctx, name, .. } => {
                (ctx, format!("ecs.batch_system({name:?}, ...)"))
            }
            Registration::Handler { ctx, event } => (ctx, format!("ecs.on({event:?}, ...)")),
        };
        if !f.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "{what}: expected a function, got {}",
                type_name(f)
            )));
        }
        let handle = ctx.keep_fn(f.clone().unbind());
        let script = ctx.script;
        match self {
            Registration::System {
                name,
                query,
                access,
                ..
            } => {
                ctx.with_host(|h| h.add_system(script, name, query.clone(), handle, access.clone()))
            }
            Registration::BatchSystem {
                name,
                query,
                access,
                ..
            } => ctx.with_host(|h| {
                h.add_batch_system(script, name, query.clone(), handle, access.clone())
            }),
            Registration::Handler { event, .. } => {
                ctx.with_host(|h| h.add_handler(script, event, handle))
            }
        }
    }
}

/// What `@ecs.system(name, names)` and `@ecs.on(event)` return.
#[pyclass(unsendable)]
struct Decorator {
    registration: RefCell<Option<Registration>>,
}

#[pymethods]
impl Decorator {
    fn __call__<'py>(&self, f: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let registration = self
            .registration
            .borrow_mut()
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this decorator was already used"))?;
        registration.register(f)?;
        Ok(f.clone())
    }
}

/// The script line calling into the API: the innermost frame that is not
/// the runtime's own code.
pub fn caller_line(py: Python<'_>) -> u32 {
    // SAFETY: called with the GIL held; PyEval_GetFrame returns a borrowed
    // reference to the current frame (or null).
    let frame = unsafe { pyo3::ffi::PyEval_GetFrame() };
    if frame.is_null() {
        return 0;
    }
    // SAFETY: a non-null borrowed frame pointer while attached.
    let mut frame = unsafe { Bound::from_borrowed_ptr(py, frame.cast()) }
        .cast_into::<pyo3::types::PyFrame>()
        .ok();
    use pyo3::types::PyFrameMethods;
    while let Some(f) = frame {
        let file: String = f
            .code()
            .getattr("co_filename")
            .and_then(|n| n.extract())
            .unwrap_or_default();
        if !file.starts_with(INTERNAL_FILE) {
            return f.line_number().max(0) as u32;
        }
        frame = f.outer();
    }
    0
}

/// Logs a line for the script at the caller's line.
pub fn log(py: Python<'_>, ctx: &PyCtx, message: String) -> PyResult<()> {
    let line = caller_line(py);
    let script = ctx.script;
    ctx.with_host(|h| h.log(script, line, message))?
        .map_err(api_err("ecs.log"))
}

/// `print` for scripts: to the console and the event stream, tagged with
/// script and line. `file=` other than stdout goes to the real `print`.
#[pyclass]
pub struct Printer {
    owned: OwnedCtx,
    real: Py<PyAny>,
}

impl Printer {
    /// A printer for a script.
    pub fn new(ctx: Rc<PyCtx>, real: Py<PyAny>) -> Printer {
        Printer {
            owned: OwnedCtx::new(ctx),
            real,
        }
    }
}

#[pymethods]
impl Printer {
    #[pyo3(signature = (*args, sep=None, end=None, file=None, flush=false))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        sep: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        file: Option<&Bound<'_, PyAny>>,
        flush: bool,
    ) -> PyResult<()> {
        if let Some(file) = file.filter(|f| !f.is_none()) {
            let kwargs = PyDict::new(py);
            kwargs.set_item("sep", sep)?;
            kwargs.set_item("end", end)?;
            kwargs.set_item("file", file)?;
            kwargs.set_item("flush", flush)?;
            self.real.bind(py).call(args, Some(&kwargs))?;
            return Ok(());
        }
        let sep = match sep.filter(|s| !s.is_none()) {
            Some(s) => arg_str(s, "print", "sep")?,
            None => " ".to_string(),
        };
        let parts: Vec<String> = args
            .iter()
            .map(|a| a.str().map(|s| s.to_string()))
            .collect::<PyResult<_>>()?;
        log(py, self.owned.get()?, parts.join(&sep))
    }
}

/// A raw pointer that may sit inside a `Send` Python object; it is only
/// dereferenced on its owner thread (see [`Live`]).
#[derive(Clone, Copy)]
struct RawPtr<T>(*mut T);

// SAFETY: a `RawPtr` is only dereferenced after `Live::check` has verified
// that the current thread is the runtime thread that made it.
unsafe impl<T> Send for RawPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for RawPtr<T> {}

thread_local! {
    static THREAD_MARK: u8 = const { 0 };
}

/// A cheap identity of the current thread (the address of a thread-local).
fn thread_mark() -> usize {
    THREAD_MARK.with(|m| m as *const u8 as usize)
}

/// A live component: `pos.x` and `pos["x"]` read the world, assigning writes
/// it. Valid until the system, step or query loop that made it ends, and
/// only on the runtime's thread.
#[pyclass(frozen, module = "ecs")]
pub struct Live {
    id: u64,
    key: CompKey,
    /// Made for a system that lists the component under `reads`:
    /// assigning a field is refused.
    read_only: bool,
    /// The component's numeric block in world storage (null when it has no
    /// numeric fields).
    ptr: RawPtr<f64>,
    generation: u32,
    /// The host's proxy generation, read without borrowing the host.
    current_generation: RawPtr<u32>,
    offsets: Offsets,
    /// The thread that made it ([`thread_mark`]).
    owner: usize,
    /// The script's `ecs` object, for fields that are not numbers.
    api: Py<EcsApi>,
}

/// The shared part of [`Live`] components of one type.
pub struct LiveTemplate {
    key: CompKey,
    /// The running system lists the component under `reads`.
    read_only: bool,
    current_generation: RawPtr<u32>,
    offsets: Offsets,
    owner: usize,
    api: Py<EcsApi>,
}

impl LiveTemplate {
    /// The live component of one entity.
    pub fn make(&self, py: Python<'_>, id: u64, ptr: *mut f64, generation: u32) -> Live {
        Live {
            id,
            key: self.key,
            read_only: self.read_only,
            ptr: RawPtr(ptr),
            generation,
            current_generation: self.current_generation,
            offsets: Arc::clone(&self.offsets),
            owner: self.owner,
            api: self.api.clone_ref(py),
        }
    }
}

/// Methods of [`Live`] (fields with these names are still reachable as
/// `c["keys"]`).
const METHODS: [&str; 2] = ["keys", "to_dict"];

impl Live {
    fn check(&self) -> PyResult<()> {
        if self.owner != thread_mark() {
            return Err(PyRuntimeError::new_err(
                "a live component can only be used on the thread that runs the scripts",
            ));
        }
        // SAFETY: on the owner thread; the host (and so this cell) lives as
        // long as `api`, which holds its context.
        let current = unsafe { *self.current_generation.0 };
        if current == self.generation {
            return Ok(());
        }
        let name = self.with_ctx(|ctx| ctx.with_host(|h| h.world.def(self.key).name.clone()))??;
        Err(PyRuntimeError::new_err(format!(
            "a live {name} of entity {} was used after the system, coroutine step or query loop that handed it out ended; keep the entity id and use ecs.get/ecs.set instead",
            self.id
        )))
    }

    fn with_ctx<R>(&self, f: impl FnOnce(&PyCtx) -> R) -> PyResult<R> {
        // SAFETY: only reached after the owner-thread check, with the GIL.
        let py = unsafe { Python::assume_attached() };
        let api = self.api.bind(py).borrow();
        Ok(f(api.ctx()?))
    }

    fn offset(&self, field: &str) -> Option<(usize, FieldKind)> {
        self.offsets
            .iter()
            .find(|(n, _, _)| n == field)
            .map(|(_, i, kind)| (*i, *kind))
    }

    fn read(&self, py: Python<'_>, field: &str) -> PyResult<Py<PyAny>> {
        self.check()?;
        if let Some((i, kind)) = self.offset(field)
            && !self.ptr.0.is_null()
        {
            // SAFETY: the generation is unchanged, so no structural change
            // happened since `ptr` was taken and it still points at this
            // component's numeric block, which has more than `i` slots.
            let v = unsafe { *self.ptr.0.add(i) };
            if kind == FieldKind::Float {
                return Ok(PyFloat::new(py, v).into_any().unbind());
            }
            let value = kind
                .coerce(ScriptValue::Float(v))
                .unwrap_or(ScriptValue::Float(v));
            return Ok(to_py(py, &value)?.unbind());
        }
        let value = self
            .with_ctx(|ctx| ctx.with_host(|h| h.get_field(self.id, self.key, field)))??
            .map_err(|e| PyAttributeError::new_err(e.0))?;
        Ok(to_py(py, &value)?.unbind())
    }

    fn write(&self, field: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check()?;
        if self.read_only {
            let name = self.name();
            return Err(PyAttributeError::new_err(format!(
                "this system lists {name} under reads: it cannot assign {name}.{field} (list {name} under writes)"
            )));
        }
        if let Some((i, _)) = self.offset(field)
            && !self.ptr.0.is_null()
            && !value.is_instance_of::<PyBool>()
            && (value.is_instance_of::<PyFloat>() || value.is_instance_of::<PyInt>())
            && let Ok(v) = value.extract::<f64>()
        {
            // SAFETY: as in `read`.
            unsafe { *self.ptr.0.add(i) = v };
            return Ok(());
        }
        let items = self.with_ctx(|ctx| ctx.value_items.get())?;
        let value = arg_value(value, &format!("field {field:?}"), items)?;
        self.with_ctx(|ctx| ctx.with_host(|h| h.set_field(self.id, self.key, field, value)))??
            .map_err(|e| PyValueError::new_err(e.0))
    }

    /// The component's value (a copy).
    pub fn value(&self) -> Result<ScriptValue, ValueError> {
        self.check().map_err(|e| e.to_string())?;
        self.with_ctx(|ctx| {
            ctx.with_host(|h| {
                let def = h.world.def(self.key);
                h.world
                    .read(self.id, self.key)
                    .map(|r| def.value_of(&r))
                    .ok_or_else(|| format!("entity {} no longer has {}", self.id, def.name))
            })
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
        .map_err(ValueError)
    }

    fn name(&self) -> String {
        self.with_ctx(|ctx| ctx.with_host(|h| h.world.def(self.key).name.clone()))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    }
}

#[pymethods]
impl Live {
    /// Fields first, then the methods: overriding the lookup itself (not
    /// only the fallback) spares building an AttributeError per field read.
    fn __getattribute__(slf: &Bound<'_, Self>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let this = slf.borrow();
        let field = name.to_str()?;
        if this.offset(field).is_some() || !field.starts_with("__") && !METHODS.contains(&field) {
            return this.read(py, field);
        }
        // SAFETY: both pointers are valid borrowed objects while attached.
        unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyObject_GenericGetAttr(slf.as_ptr(), name.as_ptr()),
            )
        }
        .map(Bound::unbind)
    }

    fn __setattr__(&self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(name, value)
    }

    fn __getitem__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        self.read(py, name)
    }

    fn __setitem__(&self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(name, value)
    }

    /// Field names, so `dict(component)` works.
    fn keys(&self) -> PyResult<Vec<String>> {
        self.check()?;
        self.with_ctx(|ctx| {
            ctx.with_host(|h| {
                h.world
                    .def(self.key)
                    .fields
                    .iter()
                    .map(|f| f.name.clone())
                    .collect()
            })
        })?
    }

    /// A plain dict copy of the component.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = self.value().map_err(|e| PyRuntimeError::new_err(e.0))?;
        to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        match self.value() {
            Ok(v) => format!("{}{v} (entity {})", self.name(), self.id),
            Err(e) => format!("<expired component: {e}>"),
        }
    }
}

/// The iterator `ecs.query` returns.
#[pyclass(unsendable)]
pub struct QueryIter {
    ids: Vec<u64>,
    ptrs: Vec<*mut f64>,
    keys: Vec<CompKey>,
    next: usize,
    generation: u32,
    open: bool,
    ctx: Rc<PyCtx>,
    templates: Vec<LiveTemplate>,
}

impl QueryIter {
    fn close(&mut self) -> PyResult<()> {
        if self.open {
            self.open = false;
            let open = self.ctx.open_queries.get();
            if open > 0 {
                self.ctx.open_queries.set(open - 1);
                self.ctx.with_host(|h| h.end_defer())?;
            }
        }
        Ok(())
    }
}

#[pymethods]
impl QueryIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if self.next >= self.ids.len() {
            self.close()?;
            return Ok(None);
        }
        let current = self.ctx.with_host(|h| h.proxy_generation())?;
        if current != self.generation {
            return Err(PyRuntimeError::new_err(
                "a query loop was resumed after the system, coroutine step or handler that started it ended",
            ));
        }
        let i = self.next;
        self.next += 1;
        let id = self.ids[i];
        let k = self.keys.len();
        let mut row: Vec<Bound<'py, PyAny>> = Vec::with_capacity(k + 1);
        row.push(PyInt::new(py, id).into_any());
        for (j, template) in self.templates.iter().enumerate() {
            let live = template.make(py, id, self.ptrs[i * k + j], self.generation);
            row.push(Bound::new(py, live)?.into_any());
        }
        Ok(Some(PyTuple::new(py, row)?))
    }

    fn __len__(&self) -> usize {
        self.ids.len() - self.next.min(self.ids.len())
    }
}

/// What `ecs.wait_frames`/`wait_seconds`/`wait_event` return; a coroutine
/// yields it.
#[pyclass(frozen, module = "ecs", name = "Wait")]
pub struct WaitObject {
    /// The request.
    pub request: WaitRequest,
}

#[pymethods]
impl WaitObject {
    fn __repr__(&self) -> String {
        match &self.request {
            WaitRequest::NextFrame => "ecs.Wait(next frame)".into(),
            WaitRequest::Frames(n) => format!("ecs.wait_frames({n})"),
            WaitRequest::Seconds(s) => format!("ecs.wait_seconds({s})"),
            WaitRequest::Event(e) => format!("ecs.wait_event({e:?})"),
        }
    }
}
