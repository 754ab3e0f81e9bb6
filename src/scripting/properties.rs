//! Property tests of the value conversion between the languages: any value
//! a script can pass survives Lua → host → Python → host → Lua unchanged
//! (up to the documented normalisations), and no input makes the
//! conversion panic.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::ScriptValue;
use super::lua::convert::{from_lua, to_lua};
use super::python::convert::{from_py, to_py};

/// Values a script can hold: integers LuaJIT keeps exactly, finite floats,
/// strings, and nested lists and maps (no `nil` inside them: a Lua table
/// cannot hold one).
fn value() -> impl Strategy<Value = ScriptValue> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(ScriptValue::Bool),
        (-(1i64 << 52)..(1i64 << 52)).prop_map(ScriptValue::Int),
        (-1e12f64..1e12f64).prop_map(ScriptValue::Float),
        ".{0,12}".prop_map(ScriptValue::Str),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(ScriptValue::List),
            prop::collection::btree_map("[a-z_][a-z0-9_]{0,6}", inner, 1..6)
                .prop_map(ScriptValue::Map),
        ]
    })
}

/// LuaJIT has one number type: a float with no fraction reads back as an
/// integer.
fn normal(value: &ScriptValue) -> ScriptValue {
    match value {
        ScriptValue::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => ScriptValue::Int(*f as i64),
        ScriptValue::List(items) => ScriptValue::List(items.iter().map(normal).collect()),
        ScriptValue::Map(map) => ScriptValue::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), normal(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn values_cross_between_the_languages_unchanged(v in value()) {
        let lua = mlua::Lua::new();
        let through_lua = from_lua(&to_lua(&lua, &v).unwrap(), u64::MAX).unwrap();
        prop_assert_eq!(&through_lua, &normal(&v));
        let through_python = pyo3::Python::attach(|py| {
            from_py(&to_py(py, &through_lua).unwrap(), u64::MAX).unwrap()
        });
        prop_assert_eq!(&through_python, &through_lua);
        let back = from_lua(&to_lua(&lua, &through_python).unwrap(), u64::MAX).unwrap();
        prop_assert_eq!(back, through_lua);
    }

    #[test]
    fn any_lua_source_value_converts_or_explains(source in "[{}0-9a-z=,\"\\.\\-\\[\\] ]{0,40}") {
        let lua = mlua::Lua::new();
        if let Ok(value) = lua.load(format!("return {source}")).eval::<mlua::Value>() {
            // Either a value or an error message; never a panic.
            let _ = from_lua(&value, u64::MAX);
        }
    }
}
