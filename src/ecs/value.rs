//! [`ScriptValue`]: the one value type every language converts to and from.
//!
//! Component fields, event payloads and API arguments cross the boundary as
//! `ScriptValue`s, so validation and defaults are written once in Rust.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A language-neutral value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ScriptValue {
    /// Lua `nil`, Python `None`.
    #[default]
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer (Python `int`; a Lua number with no fractional part).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence (Lua table with keys 1..n, an empty Lua table, a Python list
    /// or tuple).
    List(Vec<ScriptValue>),
    /// A table/dict with string keys, sorted by key.
    Map(BTreeMap<String, ScriptValue>),
}

impl ScriptValue {
    /// About how many bytes of host memory this value takes, for counting
    /// what a script makes the host hold against its memory limit.
    pub fn approx_bytes(&self) -> usize {
        let own = std::mem::size_of::<ScriptValue>();
        match self {
            ScriptValue::Str(s) => own + s.len(),
            ScriptValue::List(items) => {
                own + items.iter().map(ScriptValue::approx_bytes).sum::<usize>()
            }
            ScriptValue::Map(map) => {
                own + map
                    .iter()
                    .map(|(k, v)| k.len() + 3 * std::mem::size_of::<usize>() + v.approx_bytes())
                    .sum::<usize>()
            }
            _ => own,
        }
    }

    /// The name of this value's type, as users of both languages read it.
    pub fn type_name(&self) -> &'static str {
        match self {
            ScriptValue::Nil => "nil",
            ScriptValue::Bool(_) => "boolean",
            ScriptValue::Int(_) => "integer",
            ScriptValue::Float(_) => "number",
            ScriptValue::Str(_) => "string",
            ScriptValue::List(_) => "list",
            ScriptValue::Map(_) => "table",
        }
    }

    /// The value as a float, for any number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ScriptValue::Int(i) => Some(i as f64),
            ScriptValue::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The value as an integer: an `Int`, or a `Float` with no fractional
    /// part that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            ScriptValue::Int(i) => Some(i),
            ScriptValue::Float(f) => float_to_int(f),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ScriptValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// True for `Int` and `Float`.
    pub fn is_number(&self) -> bool {
        matches!(self, ScriptValue::Int(_) | ScriptValue::Float(_))
    }

    /// Total number of values held, counting nested ones; used to bound the
    /// size of values that cross the boundary.
    pub fn weight(&self) -> usize {
        match self {
            ScriptValue::List(items) => 1 + items.iter().map(ScriptValue::weight).sum::<usize>(),
            ScriptValue::Map(map) => 1 + map.values().map(ScriptValue::weight).sum::<usize>(),
            ScriptValue::Str(s) => 1 + s.len() / 64,
            _ => 1,
        }
    }
}

/// `f` as an `i64` when it is integral and in range.
pub fn float_to_int(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; anything at or past it does not fit.
    if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

impl From<f64> for ScriptValue {
    fn from(v: f64) -> Self {
        ScriptValue::Float(v)
    }
}

impl From<i64> for ScriptValue {
    fn from(v: i64) -> Self {
        ScriptValue::Int(v)
    }
}

impl From<bool> for ScriptValue {
    fn from(v: bool) -> Self {
        ScriptValue::Bool(v)
    }
}

impl From<&str> for ScriptValue {
    fn from(v: &str) -> Self {
        ScriptValue::Str(v.to_string())
    }
}

impl From<String> for ScriptValue {
    fn from(v: String) -> Self {
        ScriptValue::Str(v)
    }
}

impl Serialize for ScriptValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ScriptValue::Nil => serializer.serialize_unit(),
            ScriptValue::Bool(b) => serializer.serialize_bool(*b),
            ScriptValue::Int(i) => serializer.serialize_i64(*i),
            ScriptValue::Float(f) => serializer.serialize_f64(*f),
            ScriptValue::Str(s) => serializer.serialize_str(s),
            ScriptValue::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            ScriptValue::Map(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    out.serialize_entry(k, v)?;
                }
                out.end()
            }
        }
    }
}

impl fmt::Display for ScriptValue {
    /// A short, readable rendering for logs and the inspector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptValue::Nil => write!(f, "nil"),
            ScriptValue::Bool(b) => write!(f, "{b}"),
            ScriptValue::Int(i) => write!(f, "{i}"),
            ScriptValue::Float(x) => write!(f, "{}", format_float(*x)),
            ScriptValue::Str(s) => write!(f, "{s}"),
            ScriptValue::List(items) => {
                write!(f, "{{")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    if let ScriptValue::Str(s) = item {
                        write!(f, "{s:?}")?;
                    } else {
                        write!(f, "{item}")?;
                    }
                }
                write!(f, "}}")
            }
            ScriptValue::Map(map) => {
                write!(f, "{{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    if let ScriptValue::Str(s) = v {
                        write!(f, "{k} = {s:?}")?;
                    } else {
                        write!(f, "{k} = {v}")?;
                    }
                }
                write!(f, "}}")
            }
        }
    }
}

/// Formats a float the way Lua and Python users expect: integral values
/// without a trailing `.0` noise beyond one digit, others in shortest form.
pub fn format_float(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_floats_convert_to_int() {
        assert_eq!(ScriptValue::Float(3.0).as_i64(), Some(3));
        assert_eq!(ScriptValue::Float(3.5).as_i64(), None);
        assert_eq!(ScriptValue::Float(1e300).as_i64(), None);
        assert_eq!(ScriptValue::Float(f64::NAN).as_i64(), None);
    }

    #[test]
    fn serializes_as_plain_json() {
        let mut map = BTreeMap::new();
        map.insert("hp".to_string(), ScriptValue::Int(100));
        map.insert("x".to_string(), ScriptValue::Float(2.0));
        map.insert(
            "path".to_string(),
            ScriptValue::List(vec![ScriptValue::Float(0.5)]),
        );
        let json = serde_json::to_string(&ScriptValue::Map(map)).unwrap();
        assert_eq!(json, r#"{"hp":100,"path":[0.5],"x":2.0}"#);
    }

    #[test]
    fn displays_readably() {
        let v = ScriptValue::List(vec![ScriptValue::Int(1), ScriptValue::Str("a".into())]);
        assert_eq!(v.to_string(), "{1, \"a\"}");
    }
}

crate::message_error! {
    /// A value that does not fit where a script put it: a field of the wrong
    /// type, a value too large to cross to the host. The message is raised in
    /// the script, at its line.
    ValueError
}

/// Counts the items (numbers, strings, list elements, map entries) of one
/// value crossing from a script to the host, against `[limits]
/// value_items`, so that a script cannot make the host copy an unbounded
/// structure. One budget per value, made by the call that converts it.
#[derive(Debug, Clone, Copy)]
pub struct ItemBudget {
    limit: u64,
    left: u64,
}

impl ItemBudget {
    /// A budget of `limit` items.
    pub fn new(limit: u64) -> ItemBudget {
        ItemBudget { limit, left: limit }
    }

    /// Counts one item: an error once the value holds more than the limit.
    pub fn count(&mut self) -> Result<(), ValueError> {
        match self.left {
            0 => Err(ValueError(format!(
                "value too large: more than {} items cross between the script and the host ([limits] value_items)",
                self.limit
            ))),
            n => {
                self.left = n - 1;
                Ok(())
            }
        }
    }
}
