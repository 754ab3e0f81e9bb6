//! Batch systems (`ecs.batch_system`): the numeric fields of the entities a
//! query matches, one contiguous array of `f64` per field, handed to the
//! script in one call. The runtime gathers the arrays from the world's
//! storage and writes back the ones the script changed after the call;
//! each language only wraps the arrays (LuaJIT FFI arrays; Python objects
//! with the buffer protocol).

use std::sync::Arc;

use crate::ecs::components::{CompKey, FieldKind};
use crate::ecs::world::{DirectColumns, EcsWorld, NumField};

/// One component of a batch view.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchComponent {
    /// Its name (`Position`).
    pub name: String,
    /// Its numeric fields and their column, in the component's order.
    pub fields: Vec<(String, usize)>,
    /// Fields not in the arrays, and their kind (for error messages).
    pub others: Vec<(String, FieldKind)>,
}

/// What a batch system's view holds, fixed when it is registered.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLayout {
    /// The queried components, in query order.
    pub components: Vec<BatchComponent>,
    /// Every column's field, in column order.
    pub fields: Vec<NumField>,
}

impl BatchLayout {
    /// The layout for components `keys` of `world`.
    pub fn of(world: &EcsWorld, keys: &[CompKey]) -> BatchLayout {
        let mut components = Vec::new();
        let mut fields = Vec::new();
        for &key in keys {
            let def = world.def(key);
            let mut numeric = def.numeric_offsets();
            numeric.sort_by_key(|(_, slot)| *slot);
            let mut comp = BatchComponent {
                name: def.name.clone(),
                fields: Vec::new(),
                others: Vec::new(),
            };
            for (name, slot) in numeric {
                comp.fields.push((name, fields.len()));
                fields.push(NumField { key, slot });
            }
            for f in &def.fields {
                if !f.kind.is_numeric() {
                    comp.others.push((f.name.clone(), f.kind));
                }
            }
            components.push(comp);
        }
        BatchLayout { components, fields }
    }

    /// `Position.x`-style names of the columns, in column order.
    pub fn column_names(&self) -> Vec<String> {
        let mut names = vec![String::new(); self.fields.len()];
        for comp in &self.components {
            for (field, column) in &comp.fields {
                names[*column] = format!("{}.{field}", comp.name);
            }
        }
        names
    }
}

/// One run's data: the matched entities' ids and one column per field.
/// Kept between runs so the arrays' memory is reused.
#[derive(Debug, Clone)]
pub struct BatchData {
    /// What the columns are.
    pub layout: Arc<BatchLayout>,
    /// Entity ids, as numbers.
    pub ids: Vec<f64>,
    /// One array per field in `layout.fields`, `ids.len()` long.
    pub columns: Vec<Vec<f64>>,
    /// Which columns the script wrote (set by the language binding); only
    /// those go back to the world.
    pub written: Vec<bool>,
    /// Set instead of `ids` and `columns` when the script works on the
    /// world's storage in place (no copy, no write-back).
    pub direct: Option<DirectColumns>,
}

impl BatchData {
    /// Empty data for a layout.
    pub fn new(layout: Arc<BatchLayout>) -> BatchData {
        let n = layout.fields.len();
        BatchData {
            layout,
            ids: Vec::new(),
            columns: vec![Vec::new(); n],
            written: vec![false; n],
            direct: None,
        }
    }

    /// Entities in the view.
    pub fn len(&self) -> usize {
        self.direct.as_ref().map_or(self.ids.len(), |d| d.len)
    }

    /// True when the query matched nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
