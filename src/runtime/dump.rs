//! The world dump (SCRIPT_API §4 `--dump-world`): entities sorted by id,
//! components by name, fields in declaration order. Nothing in it depends
//! on the project's location, the wall clock or the machine.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::components::{ComponentDef, Record};
use super::world::EcsWorld;

struct ComponentJson<'a> {
    def: &'a ComponentDef,
    record: Record,
}

impl Serialize for ComponentJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.def.is_name() {
            return self.record.0[0].serialize(serializer);
        }
        let mut map = serializer.serialize_map(Some(self.def.fields.len()))?;
        for (field, value) in self.def.fields.iter().zip(&self.record.0) {
            map.serialize_entry(&field.name, value)?;
        }
        map.end()
    }
}

struct ComponentsJson<'a>(Vec<ComponentJson<'a>>);

impl Serialize for ComponentsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for c in &self.0 {
            map.serialize_entry(&c.def.name, c)?;
        }
        map.end()
    }
}

/// The whole world as the dump's JSON text: a header line, one line per
/// entity, and a closing line.
pub fn world_json(world: &EcsWorld, frame: u64, time: f64) -> String {
    let mut out = String::new();
    let time = serde_json::to_string(&time).unwrap_or_else(|_| "0.0".into());
    out.push_str(&format!(
        "{{\"frame\": {frame}, \"time\": {time}, \"entities\": ["
    ));
    let mut first = true;
    for id in world.ids() {
        let mut components: Vec<ComponentJson> = world
            .components_of(id)
            .into_iter()
            .filter_map(|key| {
                Some(ComponentJson {
                    def: world.def(key),
                    record: world.read(id, key)?,
                })
            })
            .collect();
        components.sort_by(|a, b| a.def.name.cmp(&b.def.name));
        let components =
            serde_json::to_string(&ComponentsJson(components)).unwrap_or_else(|_| "{}".into());
        out.push_str(if first { "\n  " } else { ",\n  " });
        first = false;
        out.push_str(&format!("{{\"id\": {id}, \"components\": {components}}}"));
    }
    out.push_str(if first { "]}\n" } else { "\n]}\n" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::ScriptValue;

    #[test]
    fn dump_matches_the_contract_layout() {
        let mut w = EcsWorld::new();
        let name = w.key("Name").unwrap();
        let pos = w.key("Position").unwrap();
        let id = w.reserve_id();
        w.spawn_with_id(
            id,
            vec![
                (pos, Record(vec![1.5.into(), 2.0.into()])),
                (name, Record(vec![ScriptValue::Str("boid-1".into())])),
            ],
        );
        let json = world_json(&w, 300, 5.0);
        assert_eq!(
            json,
            "{\"frame\": 300, \"time\": 5.0, \"entities\": [\n  {\"id\": 1, \"components\": {\"Name\":\"boid-1\",\"Position\":{\"x\":1.5,\"y\":2.0}}}\n]}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["entities"][0]["components"]["Position"]["y"], 2.0);
        assert_eq!(
            world_json(&EcsWorld::new(), 0, 0.0),
            "{\"frame\": 0, \"time\": 0.0, \"entities\": []}\n"
        );
    }
}
