//! Lua values to and from [`ScriptValue`].

use std::collections::BTreeMap;

use mlua::{Lua, Table, Value};

use crate::scripting::ScriptValue;
use crate::scripting::value::{ItemBudget, ValueError};

/// Tables nested deeper than this are refused (also catches cycles).
const MAX_DEPTH: usize = 32;

/// Converts a Lua value. Tables become lists when their keys are exactly
/// 1..n (an empty table is an empty list), otherwise maps with string keys.
/// `items` is `[limits] value_items`: the most items the value may hold.
pub fn from_lua(value: &Value, items: u64) -> Result<ScriptValue, ValueError> {
    convert(value, 0, &mut ItemBudget::new(items))
}

fn convert(
    value: &Value,
    depth: usize,
    budget: &mut ItemBudget,
) -> Result<ScriptValue, ValueError> {
    budget.count()?;
    Ok(match value {
        Value::Nil => ScriptValue::Nil,
        Value::Boolean(b) => ScriptValue::Bool(*b),
        Value::Integer(i) => ScriptValue::Int(*i),
        Value::Number(n) => ScriptValue::Float(*n),
        Value::String(s) => ScriptValue::Str(s.to_string_lossy()),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return Err(ValueError(format!(
                    "table nested more than {MAX_DEPTH} levels deep (or it contains itself)"
                )));
            }
            table(t, depth, budget)?
        }
        other => {
            return Err(ValueError(format!(
                "cannot pass a {} value here",
                other.type_name()
            )));
        }
    })
}

fn table(t: &Table, depth: usize, budget: &mut ItemBudget) -> Result<ScriptValue, ValueError> {
    let len = t.raw_len();
    let mut count = 0usize;
    let mut is_sequence = true;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        count += 1;
        if !matches!(k, Value::Integer(i) if i >= 1 && (i as usize) <= len) {
            is_sequence = false;
            break;
        }
    }
    if is_sequence && count == len {
        let mut items = Vec::with_capacity(len);
        for v in t.sequence_values::<Value>() {
            let v = v.map_err(|e| e.to_string())?;
            items.push(convert(&v, depth + 1, budget)?);
        }
        return Ok(ScriptValue::List(items));
    }
    if let Some(hole) = list_hole(t)? {
        return Err(ValueError(format!(
            "a list cannot hold nil: item {hole} is nil (use false, or leave the item out and renumber)"
        )));
    }
    let mut map = BTreeMap::new();
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            other => {
                return Err(ValueError(format!(
                    "table keys must be strings (or a list 1..n), found a {} key",
                    other.type_name()
                )));
            }
        };
        map.insert(key, convert(&v, depth + 1, budget)?);
    }
    Ok(ScriptValue::Map(map))
}

/// When every key is a positive integer but they are not 1..n, as in
/// `{1, nil, 3}`, the first missing index: the script meant a list.
fn list_hole(t: &Table) -> Result<Option<usize>, String> {
    let mut max = 0usize;
    let mut count = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        match k {
            Value::Integer(i) if i >= 1 => max = max.max(i as usize),
            _ => return Ok(None),
        }
        count += 1;
    }
    if count == 0 || count == max {
        return Ok(None);
    }
    for i in 1..=max {
        if t.raw_get::<Value>(i).map_err(|e| e.to_string())?.is_nil() {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Converts to a Lua value (maps and lists become new tables).
pub fn to_lua(lua: &Lua, value: &ScriptValue) -> mlua::Result<Value> {
    Ok(match value {
        ScriptValue::Nil => Value::Nil,
        ScriptValue::Bool(b) => Value::Boolean(*b),
        ScriptValue::Int(i) => Value::Integer(*i),
        ScriptValue::Float(f) => Value::Number(*f),
        ScriptValue::Str(s) => Value::String(lua.create_string(s)?),
        ScriptValue::List(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
        ScriptValue::Map(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, v) in map {
                t.raw_set(k.as_str(), to_lua(lua, v)?)?;
            }
            Value::Table(t)
        }
    })
}
