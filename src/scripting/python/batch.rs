//! Batch views for Python (`ecs.batch_system`): `view.n`, `view.ids` and
//! `view.Position.x`, arrays of floats that support `len()`, indexing,
//! item assignment and the buffer protocol, so `numpy.asarray(view.Position.x)`
//! works on them without a copy.
//!
//! Each array owns its memory. For a run, the runtime's gathered column is
//! moved into the array (no copy) and moved back out afterwards, unless
//! the script kept the array (or a numpy array made from it): then the
//! column is copied out and the array keeps its memory for as long as
//! anything refers to it, so numpy never sees freed memory. An array used
//! after its run raises an error; a numpy array made from it keeps the old
//! values, and its writes no longer reach the world.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{CString, c_int, c_void};
use std::rc::Rc;

use pyo3::exceptions::{
    PyAttributeError, PyBufferError, PyIndexError, PyRuntimeError, PyTypeError,
};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::scripting::batch::{BatchData, BatchLayout};

/// One array of a batch view.
#[pyclass(unsendable, module = "ecs", name = "BatchArray")]
pub struct BatchArray {
    data: Vec<f64>,
    name: String,
    readonly: bool,
    /// The run the array belongs to, and the system's current run.
    run: Cell<u64>,
    current: Rc<Cell<u64>>,
    /// Buffers handed out and not yet released.
    exports: Cell<usize>,
    /// Shape and stride for buffer views (their addresses must stay put).
    shape: Box<[isize; 2]>,
}

impl BatchArray {
    fn check(&self) -> PyResult<()> {
        if self.run.get() != self.current.get() {
            return Err(PyRuntimeError::new_err(format!(
                "view.{} was used after its batch system returned; a view is valid only during the call",
                self.name
            )));
        }
        Ok(())
    }

    fn index(&self, i: isize) -> PyResult<usize> {
        let n = self.data.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(PyIndexError::new_err(format!(
                "view.{}[{i}]: index out of range (view.n = {n})",
                self.name
            )));
        }
        Ok(j as usize)
    }
}

#[pymethods]
impl BatchArray {
    fn __len__(&self) -> PyResult<usize> {
        self.check()?;
        Ok(self.data.len())
    }

    /// A float, or an int for `view.ids` (ids are whole numbers, and
    /// `ecs.get(view.ids[i], ...)` should read like any other id).
    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        self.check()?;
        let v = self.data[self.index(i)?];
        if self.readonly {
            Ok((v as u64).into_pyobject(py)?.into_any())
        } else {
            Ok(v.into_pyobject(py)?.into_any())
        }
    }

    fn __setitem__(&mut self, i: isize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check()?;
        if self.readonly {
            return Err(PyTypeError::new_err(format!(
                "view.{} is read-only",
                self.name
            )));
        }
        let j = self.index(i)?;
        let v: f64 = value.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "view.{}[{i}] = {}: batch arrays hold numbers only",
                self.name,
                value
                    .get_type()
                    .name()
                    .map_or("?".into(), |n| n.to_string())
            ))
        })?;
        self.data[j] = v;
        Ok(())
    }

    fn __delitem__(&self, _i: isize) -> PyResult<()> {
        Err(PyTypeError::new_err(format!(
            "view.{}: batch arrays have a fixed size (view.n)",
            self.name
        )))
    }

    /// The values as a list (a copy).
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.check()?;
        if self.readonly {
            PyList::new(py, self.data.iter().map(|&v| v as u64))
        } else {
            PyList::new(py, &self.data)
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<batch array view.{} of {} numbers>",
            self.name,
            self.data.len()
        )
    }

    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("no buffer to fill"));
        }
        let this = slf.borrow();
        this.check()
            .map_err(|e| PyBufferError::new_err(e.to_string()))?;
        let writable = (flags & pyo3::ffi::PyBUF_WRITABLE) == pyo3::ffi::PyBUF_WRITABLE;
        if writable && this.readonly {
            return Err(PyBufferError::new_err(format!(
                "view.{} is read-only",
                this.name
            )));
        }
        this.exports.set(this.exports.get() + 1);
        let buf = this.data.as_ptr() as *mut c_void;
        let len = (this.data.len() * std::mem::size_of::<f64>()) as isize;
        let readonly = this.readonly;
        let shape = this.shape.as_ptr() as *mut isize;
        drop(this);
        // SAFETY: `view` is non-null (checked) and ours to fill; `buf`
        // points at the array's own memory, which is never reallocated or
        // moved while a buffer is exported (see `lend` and `take_back`) and
        // lives as long as `obj`, which the buffer holds.
        unsafe {
            (*view).obj = slf.into_any().into_ptr();
            (*view).buf = buf;
            (*view).len = len;
            (*view).readonly = c_int::from(readonly);
            (*view).itemsize = std::mem::size_of::<f64>() as isize;
            (*view).format = if (flags & pyo3::ffi::PyBUF_FORMAT) == pyo3::ffi::PyBUF_FORMAT {
                CString::new("d").expect("no NUL").into_raw()
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = 1;
            (*view).shape = if (flags & pyo3::ffi::PyBUF_ND) == pyo3::ffi::PyBUF_ND {
                shape
            } else {
                std::ptr::null_mut()
            };
            (*view).strides = if (flags & pyo3::ffi::PyBUF_STRIDES) == pyo3::ffi::PyBUF_STRIDES {
                shape.add(1)
            } else {
                std::ptr::null_mut()
            };
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, view: *mut pyo3::ffi::Py_buffer) {
        self.exports.set(self.exports.get().saturating_sub(1));
        // SAFETY: the format string, if any, was made by `__getbuffer__`.
        unsafe {
            if !(*view).format.is_null() {
                drop(CString::from_raw((*view).format));
            }
        }
    }
}

/// One component of a batch view: its numeric fields as arrays.
#[pyclass(unsendable, module = "ecs", name = "BatchComponent")]
pub struct BatchComponentView {
    name: String,
    fields: RefCell<HashMap<String, Py<BatchArray>>>,
    others: HashMap<String, &'static str>,
}

#[pymethods]
impl BatchComponentView {
    fn __getattr__(&self, py: Python<'_>, field: &str) -> PyResult<Py<BatchArray>> {
        if let Some(array) = self.fields.borrow().get(field) {
            return Ok(array.clone_ref(py));
        }
        Err(PyAttributeError::new_err(match self.others.get(field) {
            Some(kind) => format!(
                "view.{}.{field} is {kind}: batch views hold numeric fields only (use ecs.get(view.ids[i], {:?}))",
                self.name, self.name
            ),
            None => format!("view.{} has no field {field}", self.name),
        }))
    }

    fn __setattr__(&self, field: &str, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyAttributeError::new_err(format!(
            "view.{0}.{field} cannot be replaced; assign to its elements: view.{0}.{field}[i] = value",
            self.name
        )))
    }
}

/// What a batch system receives.
#[pyclass(unsendable, module = "ecs", name = "BatchView")]
pub struct BatchView {
    n: Cell<usize>,
    ids: RefCell<Py<BatchArray>>,
    components: HashMap<String, Py<BatchComponentView>>,
    names: String,
}

#[pymethods]
impl BatchView {
    /// Entities in the view.
    #[getter]
    fn n(&self) -> usize {
        self.n.get()
    }

    /// Their ids (read-only).
    #[getter]
    fn ids(&self, py: Python<'_>) -> Py<BatchArray> {
        self.ids.borrow().clone_ref(py)
    }

    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<BatchComponentView>> {
        self.components
            .get(name)
            .map(|c| c.clone_ref(py))
            .ok_or_else(|| {
                PyAttributeError::new_err(format!(
                    "view.{name}: not a component of this batch system (it has {})",
                    self.names
                ))
            })
    }
}

/// A batch system's view, kept from run to run.
pub struct BatchViews {
    view: Py<BatchView>,
    /// Each column's array, in column order, and where it sits.
    arrays: Vec<(String, String, Py<BatchArray>)>,
    /// Whether each column's array refuses writes (its component is under
    /// the system's `reads`).
    read_only: Vec<bool>,
    current: Rc<Cell<u64>>,
}

fn new_array(
    py: Python<'_>,
    name: &str,
    readonly: bool,
    current: &Rc<Cell<u64>>,
) -> PyResult<Py<BatchArray>> {
    Py::new(
        py,
        BatchArray {
            data: Vec::new(),
            name: name.to_string(),
            readonly,
            run: Cell::new(0),
            current: Rc::clone(current),
            exports: Cell::new(0),
            shape: Box::new([0, std::mem::size_of::<f64>() as isize]),
        },
    )
}

/// References the view itself holds to each column's array: its list of
/// arrays and its component's table of fields.
const VIEW_REFS: isize = 2;

/// Whether only the view holds the array (`own` references): then its
/// memory may be swapped.
fn unshared(py: Python<'_>, array: &Py<BatchArray>, own: isize) -> bool {
    // SAFETY: reading the reference count of a live object, GIL held.
    let refs = unsafe { pyo3::ffi::Py_REFCNT(array.as_ptr()) };
    refs <= own && array.borrow(py).exports.get() == 0
}

impl BatchViews {
    /// The view of a layout.
    /// `read_only` says, per component of the layout, whether its arrays
    /// refuse writes.
    pub fn new(py: Python<'_>, layout: &BatchLayout, read_only: &[bool]) -> PyResult<BatchViews> {
        let current = Rc::new(Cell::new(0));
        let mut arrays = Vec::new();
        let mut column_read_only = Vec::new();
        let mut components = HashMap::new();
        let mut names = Vec::new();
        for (i, comp) in layout.components.iter().enumerate() {
            names.push(comp.name.clone());
            let mut fields = HashMap::new();
            let locked = read_only.get(i).copied().unwrap_or(false);
            for (field, _) in &comp.fields {
                let array = new_array(py, &format!("{}.{field}", comp.name), locked, &current)?;
                fields.insert(field.clone(), array.clone_ref(py));
                arrays.push((comp.name.clone(), field.clone(), array));
                column_read_only.push(locked);
            }
            let view = BatchComponentView {
                name: comp.name.clone(),
                fields: RefCell::new(fields),
                others: comp
                    .others
                    .iter()
                    .map(|(f, kind)| (f.clone(), kind.described()))
                    .collect(),
            };
            components.insert(comp.name.clone(), Py::new(py, view)?);
        }
        let view = BatchView {
            n: Cell::new(0),
            ids: RefCell::new(new_array(py, "ids", true, &current)?),
            components,
            names: names.join(", "),
        };
        Ok(BatchViews {
            view: Py::new(py, view)?,
            arrays,
            read_only: column_read_only,
            current,
        })
    }

    /// Moves a run's arrays into the view (replacing arrays the script
    /// kept from an earlier run with new ones) and returns the view.
    pub fn lend<'py>(
        &mut self,
        py: Python<'py>,
        data: &mut BatchData,
    ) -> PyResult<Bound<'py, BatchView>> {
        let run = self.current.get() + 1;
        self.current.set(run);
        let view = self.view.bind(py).borrow();
        view.n.set(data.ids.len());
        for (j, (comp, field, array)) in self.arrays.iter_mut().enumerate() {
            if !unshared(py, array, VIEW_REFS) {
                let locked = self.read_only.get(j).copied().unwrap_or(false);
                *array = new_array(py, &format!("{comp}.{field}"), locked, &self.current)?;
                if let Some(c) = view.components.get(comp) {
                    c.borrow(py)
                        .fields
                        .borrow_mut()
                        .insert(field.clone(), array.clone_ref(py));
                }
            }
            let mut a = array.borrow_mut(py);
            std::mem::swap(&mut a.data, &mut data.columns[j]);
            a.shape[0] = a.data.len() as isize;
            a.run.set(run);
        }
        let mut ids = view.ids.borrow_mut();
        if !unshared(py, &ids, 1) {
            *ids = new_array(py, "ids", true, &self.current)?;
        }
        {
            let mut a = ids.borrow_mut(py);
            a.data.clear();
            a.data.extend_from_slice(&data.ids);
            a.shape[0] = a.data.len() as isize;
            a.run.set(run);
        }
        drop(ids);
        drop(view);
        Ok(self.view.bind(py).clone())
    }

    /// Takes the arrays back after the run (copying them when the script
    /// kept one, so its memory stays with it), and ends the view's run.
    pub fn take_back(&mut self, py: Python<'_>, data: &mut BatchData) {
        self.current.set(self.current.get() + 1);
        for (j, (_, _, array)) in self.arrays.iter().enumerate() {
            let shared = !unshared(py, array, VIEW_REFS);
            let mut a = array.borrow_mut(py);
            if shared {
                data.columns[j].clear();
                data.columns[j].extend_from_slice(&a.data);
            } else {
                std::mem::swap(&mut a.data, &mut data.columns[j]);
            }
            // Python can write through numpy without telling anyone.
            data.written[j] = true;
        }
    }
}
