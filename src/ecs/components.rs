//! Components: the built-in ones defined in Rust and the schema of script
//! components declared with `ecs.component` (SCRIPT_API §2).
//!
//! Every component, built-in or not, is described by a [`ComponentDef`]
//! whose fields have a [`FieldKind`]; values are checked against it here,
//! once, for every language.

use bevy_ecs::component::{Component, ComponentId};

use crate::ecs::ScriptValue;
use crate::ecs::value::ValueError;

/// The entity id scripts see: an integer that is never reused in a run.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct EntityId(pub u64);

/// `Name`: a label for the inspector and the scene.
#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct Name(pub String);

/// `Position`: world units.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
#[repr(C)]
pub struct Position {
    /// Horizontal, growing to the right.
    pub x: f64,
    /// Vertical, growing upwards.
    pub y: f64,
}

/// `Velocity`: units per second. Nothing moves an entity unless a script does.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
#[repr(C)]
pub struct Velocity {
    /// Horizontal speed.
    pub x: f64,
    /// Vertical speed.
    pub y: f64,
}

/// `Rotation`: radians, counter-clockwise.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
#[repr(C)]
pub struct Rotation {
    /// The angle.
    pub angle: f64,
}

/// `Color`: each channel in 0..1.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Color {
    /// Red.
    pub r: f64,
    /// Green.
    pub g: f64,
    /// Blue.
    pub b: f64,
    /// Opacity, 1 when not given.
    pub a: f64,
}

impl Default for Color {
    fn default() -> Self {
        Color {
            r: 1.0,
            g: 1.0,
            b: 1.0,
            a: 1.0,
        }
    }
}

/// What the scene view draws for an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShapeKind {
    /// A disc of diameter `size`.
    #[default]
    Circle,
    /// A square of side `size`.
    Rect,
    /// A triangle pointing along the entity's rotation.
    Triangle,
}

impl ShapeKind {
    /// The name used in scripts.
    pub fn name(self) -> &'static str {
        match self {
            ShapeKind::Circle => "circle",
            ShapeKind::Rect => "rect",
            ShapeKind::Triangle => "triangle",
        }
    }

    /// Parses a script-side name.
    pub fn parse(name: &str) -> Option<ShapeKind> {
        match name {
            "circle" => Some(ShapeKind::Circle),
            "rect" => Some(ShapeKind::Rect),
            "triangle" => Some(ShapeKind::Triangle),
            _ => None,
        }
    }
}

/// `Shape`: scene view drawing.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Shape {
    /// Size in world units.
    pub size: f64,
    /// Circle, rect or triangle.
    pub kind: ShapeKind,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            kind: ShapeKind::Circle,
            size: 1.0,
        }
    }
}

/// The built-in components, in the order the inspector shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// [`Name`].
    Name,
    /// [`Position`].
    Position,
    /// [`Velocity`].
    Velocity,
    /// [`Rotation`].
    Rotation,
    /// [`Color`].
    Color,
    /// [`Shape`].
    Shape,
}

impl Builtin {
    /// Every built-in.
    pub const ALL: [Builtin; 6] = [
        Builtin::Name,
        Builtin::Position,
        Builtin::Velocity,
        Builtin::Rotation,
        Builtin::Color,
        Builtin::Shape,
    ];

    /// The component's name in scripts.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Name => "Name",
            Builtin::Position => "Position",
            Builtin::Velocity => "Velocity",
            Builtin::Rotation => "Rotation",
            Builtin::Color => "Color",
            Builtin::Shape => "Shape",
        }
    }

    /// Field definitions with their defaults. `Name` has one field, `value`,
    /// which scripts see as the whole component.
    pub fn fields(self) -> Vec<FieldDef> {
        let num = |name: &str, default: f64| FieldDef::new(name, FieldKind::Float, default.into());
        match self {
            Builtin::Name => vec![FieldDef::new("value", FieldKind::Str, "".into())],
            Builtin::Position | Builtin::Velocity => vec![num("x", 0.0), num("y", 0.0)],
            Builtin::Rotation => vec![num("angle", 0.0)],
            Builtin::Color => vec![num("r", 1.0), num("g", 1.0), num("b", 1.0), num("a", 1.0)],
            Builtin::Shape => vec![
                FieldDef::new("kind", FieldKind::Str, "circle".into()),
                num("size", 1.0),
            ],
        }
    }
}

/// The type of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Stored as f64; integers are converted.
    Float,
    /// Declared with an integer default: integral values are kept as
    /// integers, other numbers as floats (values are never rounded).
    Int,
    /// `true`/`false`.
    Bool,
    /// Text.
    Str,
    /// A list of numbers.
    List,
}

impl FieldKind {
    /// The kind of a declared default value.
    pub fn of_default(value: &ScriptValue) -> Result<FieldKind, ValueError> {
        match value {
            ScriptValue::Int(_) => Ok(FieldKind::Int),
            ScriptValue::Float(_) => Ok(FieldKind::Float),
            ScriptValue::Bool(_) => Ok(FieldKind::Bool),
            ScriptValue::Str(_) => Ok(FieldKind::Str),
            ScriptValue::List(items) => {
                if items.iter().all(ScriptValue::is_number) {
                    Ok(FieldKind::List)
                } else {
                    Err("a list default may hold only numbers".into())
                }
            }
            other => Err(ValueError(format!(
                "a field's default must be a number, integer, boolean, string or list of numbers, not {}",
                other.type_name()
            ))),
        }
    }

    /// Human name for messages.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Float => "number",
            FieldKind::Int => "integer",
            FieldKind::Bool => "boolean",
            FieldKind::Str => "string",
            FieldKind::List => "list of numbers",
        }
    }

    /// The name with its article, for messages.
    pub fn described(self) -> &'static str {
        match self {
            FieldKind::Float => "a number",
            FieldKind::Int => "an integer",
            FieldKind::Bool => "a boolean",
            FieldKind::Str => "a string",
            FieldKind::List => "a list of numbers",
        }
    }

    /// True for the kinds a batch view hands over as number arrays.
    pub fn is_numeric(self) -> bool {
        matches!(self, FieldKind::Float | FieldKind::Int)
    }

    /// Checks and normalises a value for a field of this kind.
    pub fn coerce(self, value: ScriptValue) -> Result<ScriptValue, ValueError> {
        let mismatch =
            |v: &ScriptValue| format!("must be {}, got {}", self.described(), v.type_name());
        match self {
            FieldKind::Float => match value {
                ScriptValue::Float(_) => Ok(value),
                ScriptValue::Int(i) => Ok(ScriptValue::Float(i as f64)),
                other => Err(ValueError(mismatch(&other))),
            },
            FieldKind::Int => match value {
                ScriptValue::Int(_) => Ok(value),
                ScriptValue::Float(f) => Ok(match crate::ecs::value::float_to_int(f) {
                    Some(i) => ScriptValue::Int(i),
                    None => ScriptValue::Float(f),
                }),
                other => Err(ValueError(mismatch(&other))),
            },
            FieldKind::Bool => match value {
                ScriptValue::Bool(_) => Ok(value),
                other => Err(ValueError(mismatch(&other))),
            },
            FieldKind::Str => match value {
                ScriptValue::Str(_) => Ok(value),
                other => Err(ValueError(mismatch(&other))),
            },
            FieldKind::List => match value {
                ScriptValue::List(items) => {
                    if let Some(bad) = items.iter().find(|v| !v.is_number()) {
                        Err(ValueError(format!(
                            "must be a list of numbers, but it holds a {}",
                            bad.type_name()
                        )))
                    } else {
                        Ok(ScriptValue::List(items))
                    }
                }
                // An empty Lua table arrives as an empty list; a non-empty
                // table with keys is not a list.
                other => Err(ValueError(mismatch(&other))),
            },
        }
    }
}

/// One field of a component.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// The value a spawn or set that omits the field gets.
    pub default: ScriptValue,
}

impl FieldDef {
    /// A field definition.
    pub fn new(name: &str, kind: FieldKind, default: ScriptValue) -> FieldDef {
        FieldDef {
            name: name.to_string(),
            kind,
            default,
        }
    }
}

/// Index of a component in the registry; cheap to copy into script handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CompKey(pub u32);

/// Whether a component is defined in Rust or by a script.
#[derive(Debug, Clone, PartialEq)]
pub enum CompKind {
    /// One of the built-ins.
    Builtin(Builtin),
    /// Declared with `ecs.component`; stored as a [`ScriptStore`].
    Script,
}

/// A registered component.
#[derive(Debug, Clone)]
pub struct ComponentDef {
    /// The name scripts use.
    pub name: String,
    /// Built-in or script.
    pub kind: CompKind,
    /// Fields in declaration order.
    pub fields: Vec<FieldDef>,
    /// Where each field is stored.
    pub slots: Vec<Slot>,
    /// The bevy component that stores it.
    pub bevy_id: ComponentId,
    /// The script that first declared it (manifest path), for script
    /// components.
    pub declared_by: Option<String>,
}

impl ComponentDef {
    /// A definition; slots are derived from the fields.
    pub fn new(
        name: &str,
        kind: CompKind,
        fields: Vec<FieldDef>,
        bevy_id: ComponentId,
        declared_by: Option<String>,
    ) -> ComponentDef {
        ComponentDef {
            name: name.to_string(),
            kind,
            slots: slots_of(&fields),
            fields,
            bevy_id,
            declared_by,
        }
    }

    /// Packs a checked record into script-component storage.
    pub fn store_of(&self, record: Record) -> ScriptStore {
        let mut nums = Vec::new();
        let mut rest = Vec::new();
        for (value, slot) in record.0.into_iter().zip(&self.slots) {
            match slot {
                Slot::Num(_) => nums.push(value.as_f64().unwrap_or(0.0)),
                Slot::Other(_) => rest.push(value),
            }
        }
        ScriptStore {
            nums: nums.into(),
            rest: rest.into(),
        }
    }

    /// One field's value from script-component storage.
    pub fn field_of_store(&self, store: &ScriptStore, index: usize) -> Option<ScriptValue> {
        match self.slots.get(index)? {
            Slot::Num(i) => {
                let v = ScriptValue::Float(*store.nums.get(*i)?);
                self.fields[index].kind.coerce(v).ok()
            }
            Slot::Other(i) => store.rest.get(*i).cloned(),
        }
    }

    /// Unpacks script-component storage into a record.
    pub fn record_of_store(&self, store: &ScriptStore) -> Record {
        Record(
            (0..self.fields.len())
                .map(|i| self.field_of_store(store, i).unwrap_or_default())
                .collect(),
        )
    }

    /// Numeric field names and their index in the numeric block.
    pub fn numeric_offsets(&self) -> Vec<(String, usize)> {
        self.fields
            .iter()
            .zip(&self.slots)
            .filter_map(|(f, s)| match s {
                Slot::Num(i) => Some((f.name.clone(), *i)),
                Slot::Other(_) => None,
            })
            .collect()
    }

    /// Index of a field by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// True for `Name`, whose value is a plain string.
    pub fn is_name(&self) -> bool {
        self.kind == CompKind::Builtin(Builtin::Name)
    }

    /// The component's default record.
    pub fn default_record(&self) -> Record {
        Record(self.fields.iter().map(|f| f.default.clone()).collect())
    }

    /// Builds a record from a script value: a table/dict of fields (omitted
    /// fields take defaults, unknown ones are an error), or a string for
    /// `Name`.
    pub fn record_from_value(&self, value: ScriptValue) -> Result<Record, ValueError> {
        if self.is_name() {
            return match value {
                ScriptValue::Str(s) => Ok(Record(vec![ScriptValue::Str(s)])),
                other => Err(ValueError(format!(
                    "component Name is a string, got {}",
                    other.type_name()
                ))),
            };
        }
        let map = match value {
            ScriptValue::Map(map) => map,
            // `{}` in Lua: no fields given, all defaults.
            ScriptValue::List(items) if items.is_empty() => Default::default(),
            other => {
                return Err(ValueError(format!(
                    "component {} must be a table of fields, got {}",
                    self.name,
                    other.type_name()
                )));
            }
        };
        let mut record = self.default_record();
        for (key, field_value) in map {
            let index = self
                .field_index(&key)
                .ok_or_else(|| self.unknown_field(&key))?;
            record.0[index] = self.coerce_field(index, field_value)?;
        }
        Ok(record)
    }

    /// Checks a value for one field.
    pub fn coerce_field(
        &self,
        index: usize,
        value: ScriptValue,
    ) -> Result<ScriptValue, ValueError> {
        let field = &self.fields[index];
        let value = field
            .kind
            .coerce(value)
            .map_err(|e| format!("field {}.{} {e}", self.name, field.name))?;
        if self.kind == CompKind::Builtin(Builtin::Shape)
            && field.name == "kind"
            && let ScriptValue::Str(s) = &value
            && ShapeKind::parse(s).is_none()
        {
            return Err(ValueError(format!(
                "field Shape.kind must be \"circle\", \"rect\" or \"triangle\", got {s:?}"
            )));
        }
        Ok(value)
    }

    /// The error for a field this component lacks.
    pub fn unknown_field(&self, name: &str) -> String {
        let known: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        if self.is_name() {
            return format!("component Name is a plain string and has no field {name:?}");
        }
        format!(
            "component {} has no field {name:?} (fields: {})",
            self.name,
            known.join(", ")
        )
    }

    /// The value scripts see for a record: a string for `Name`, else a map.
    pub fn value_of(&self, record: &Record) -> ScriptValue {
        if self.is_name() {
            return record.0[0].clone();
        }
        ScriptValue::Map(
            self.fields
                .iter()
                .zip(&record.0)
                .map(|(f, v)| (f.name.clone(), v.clone()))
                .collect(),
        )
    }
}

/// A component's field values in declaration order: the common form of
/// every component crossing the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Record(pub Vec<ScriptValue>);

/// Where a field lives in storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// In the component's block of `f64`s, at this index. Script proxies
    /// read and write these directly.
    Num(usize),
    /// Elsewhere (strings, booleans, lists), at this index of the rest.
    Other(usize),
}

/// The slots of a list of fields: numbers first in a contiguous block.
pub fn slots_of(fields: &[FieldDef]) -> Vec<Slot> {
    let (mut nums, mut others) = (0, 0);
    fields
        .iter()
        .map(|f| {
            if f.kind.is_numeric() {
                nums += 1;
                Slot::Num(nums - 1)
            } else {
                others += 1;
                Slot::Other(others - 1)
            }
        })
        .collect()
}

/// The storage of a script component: numeric fields in one heap block of
/// `f64`s whose address does not change while the component exists (script
/// proxies point into it), other fields beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptStore {
    /// Numeric fields (`Float` and `Int`), in slot order.
    pub nums: Box<[f64]>,
    /// Other fields, in slot order.
    pub rest: Box<[ScriptValue]>,
}

/// Parses `ecs.component(name, defaults)` into field definitions.
pub fn fields_from_defaults(name: &str, defaults: ScriptValue) -> Result<Vec<FieldDef>, String> {
    let map = match defaults {
        ScriptValue::Map(map) => map,
        ScriptValue::List(items) if items.is_empty() => Default::default(),
        ScriptValue::Nil => Default::default(),
        other => {
            return Err(format!(
                "ecs.component({name:?}, defaults): defaults must be a table of field = default, got {}",
                other.type_name()
            ));
        }
    };
    map.into_iter()
        .map(|(field, default)| {
            let kind = FieldKind::of_default(&default)
                .map_err(|e| format!("component {name} field {field:?}: {e}"))?;
            let default = kind
                .coerce(default)
                .map_err(|e| format!("{name}.{field} {e}"))?;
            Ok(FieldDef {
                name: field,
                kind,
                default,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(pairs: &[(&str, ScriptValue)]) -> ScriptValue {
        ScriptValue::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn health() -> ComponentDef {
        ComponentDef::new(
            "Health",
            CompKind::Script,
            fields_from_defaults(
                "Health",
                map(&[("hp", 100i64.into()), ("max", 100i64.into())]),
            )
            .unwrap(),
            ComponentId::new(0),
            None,
        )
    }

    #[test]
    fn omitted_fields_get_defaults() {
        let def = health();
        let record = def.record_from_value(map(&[("hp", 5i64.into())])).unwrap();
        assert_eq!(record.0, vec![ScriptValue::Int(5), ScriptValue::Int(100)]);
    }

    #[test]
    fn unknown_and_mistyped_fields_are_errors() {
        let def = health();
        let err = def
            .record_from_value(map(&[("hq", 5i64.into())]))
            .unwrap_err();
        assert!(err.to_string().contains("no field \"hq\""), "{err}");
        let err = def
            .record_from_value(map(&[("hp", "x".into())]))
            .unwrap_err();
        assert!(
            err.to_string().contains("must be an integer, got string"),
            "{err}"
        );
    }

    #[test]
    fn int_fields_keep_fractions() {
        assert_eq!(
            FieldKind::Int.coerce(ScriptValue::Float(2.0)).unwrap(),
            ScriptValue::Int(2)
        );
        assert_eq!(
            FieldKind::Int.coerce(ScriptValue::Float(2.5)).unwrap(),
            ScriptValue::Float(2.5)
        );
        assert_eq!(
            FieldKind::Float.coerce(ScriptValue::Int(2)).unwrap(),
            ScriptValue::Float(2.0)
        );
    }

    #[test]
    fn script_storage_keeps_numbers_together() {
        let mut m = BTreeMap::new();
        m.insert("hp".to_string(), ScriptValue::Int(100));
        m.insert("label".to_string(), ScriptValue::Str("x".into()));
        m.insert("speed".to_string(), ScriptValue::Float(1.5));
        let def = ComponentDef::new(
            "Unit",
            CompKind::Script,
            fields_from_defaults("Unit", ScriptValue::Map(m)).unwrap(),
            ComponentId::new(0),
            None,
        );
        let store = def.store_of(def.default_record());
        assert_eq!(&*store.nums, &[100.0, 1.5]);
        assert_eq!(def.record_of_store(&store), def.default_record());
        assert_eq!(
            def.numeric_offsets(),
            vec![("hp".to_string(), 0), ("speed".to_string(), 1)]
        );
    }

    #[test]
    fn shape_kind_is_checked() {
        let def = ComponentDef::new(
            "Shape",
            CompKind::Builtin(Builtin::Shape),
            Builtin::Shape.fields(),
            ComponentId::new(0),
            None,
        );
        assert!(
            def.record_from_value(map(&[("kind", "hexagon".into())]))
                .is_err()
        );
        assert!(
            def.record_from_value(map(&[("kind", "rect".into())]))
                .is_ok()
        );
    }
}
