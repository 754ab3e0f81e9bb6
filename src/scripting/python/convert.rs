//! Python values to and from [`ScriptValue`].

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use super::api::Live;
use crate::scripting::ScriptValue;
use crate::scripting::value::{ItemBudget, ValueError};

/// Containers nested deeper than this are refused (also catches cycles).
const MAX_DEPTH: usize = 32;

/// Converts a Python value: `None`, `bool`, `int`, `float`, `str`, lists and
/// tuples, dicts with string keys, and live components (copied).
/// `items` is `[limits] value_items`: the most items the value may hold.
pub fn from_py(value: &Bound<'_, PyAny>, items: u64) -> Result<ScriptValue, ValueError> {
    convert(value, 0, &mut ItemBudget::new(items))
}

fn convert(
    value: &Bound<'_, PyAny>,
    depth: usize,
    budget: &mut ItemBudget,
) -> Result<ScriptValue, ValueError> {
    budget.count()?;
    if depth >= MAX_DEPTH {
        return Err(ValueError(format!(
            "value nested more than {MAX_DEPTH} levels deep (or it contains itself)"
        )));
    }
    if value.is_none() {
        return Ok(ScriptValue::Nil);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(ScriptValue::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return match value.extract::<i64>() {
            Ok(i) => Ok(ScriptValue::Int(i)),
            Err(_) => Err("integer too large: values must fit in 64 bits".into()),
        };
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(ScriptValue::Float(f.value()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(ScriptValue::Str(s.to_string_lossy().into_owned()));
    }
    if let Ok(list) = value.cast::<PyList>() {
        return list
            .iter()
            .map(|item| convert(&item, depth + 1, budget))
            .collect::<Result<_, _>>()
            .map(ScriptValue::List);
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| convert(&item, depth + 1, budget))
            .collect::<Result<_, _>>()
            .map(ScriptValue::List);
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = BTreeMap::new();
        for (k, v) in dict.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| format!("dict keys must be strings, found a {} key", type_name(&k)))?
                .to_string_lossy()
                .into_owned();
            map.insert(key, convert(&v, depth + 1, budget)?);
        }
        return Ok(ScriptValue::Map(map));
    }
    if let Ok(live) = value.cast::<Live>() {
        return live.borrow().value();
    }
    // Numbers from other libraries (numpy scalars, Decimal...).
    if value.hasattr("__index__").unwrap_or(false)
        && let Ok(i) = value.extract::<i64>()
    {
        return Ok(ScriptValue::Int(i));
    }
    if value.hasattr("__float__").unwrap_or(false)
        && let Ok(f) = value.extract::<f64>()
    {
        return Ok(ScriptValue::Float(f));
    }
    Err(ValueError(format!(
        "cannot pass a {} value here",
        type_name(value)
    )))
}

/// The Python type name of a value, for messages.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Converts to a Python value (maps become dicts, lists become lists).
pub fn to_py<'py>(py: Python<'py>, value: &ScriptValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        ScriptValue::Nil => py.None().into_bound(py),
        ScriptValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        ScriptValue::Int(i) => PyInt::new(py, *i).into_any(),
        ScriptValue::Float(f) => PyFloat::new(py, *f).into_any(),
        ScriptValue::Str(s) => PyString::new(py, s).into_any(),
        ScriptValue::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        ScriptValue::Map(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
