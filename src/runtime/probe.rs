//! What the debugger's data breakpoints and write tracking read the world
//! through, and the debugger's commands (applied the same way between
//! frames and while stopped).

use super::{EventKind, RuntimeCommand};
use crate::scripting::debugger::{DataBreakpoint, DebugOutput, Debugger, FieldReading, WorldProbe};
use crate::scripting::host::SharedHost;
use crate::scripting::value::ScriptValue;

/// Reads component fields from the host's world.
pub struct HostProbe {
    /// The runtime's host.
    pub host: SharedHost,
}

fn reading(entity: u64, value: &ScriptValue) -> FieldReading {
    let number = match value {
        ScriptValue::Int(i) => Some(*i as f64),
        ScriptValue::Float(x) => Some(*x),
        _ => None,
    };
    let text = match value {
        // Exact, so that any change is seen.
        ScriptValue::Float(x) => format!("{x}"),
        other => other.to_string(),
    };
    FieldReading {
        entity,
        number,
        text,
    }
}

impl WorldProbe for HostProbe {
    fn ready(&self) -> bool {
        self.host.try_borrow().is_ok()
    }

    fn field(
        &self,
        entity: Option<u64>,
        component: &str,
        field: &str,
    ) -> Result<Vec<FieldReading>, String> {
        let host = self
            .host
            .try_borrow()
            .map_err(|_| "the world is busy".to_string())?;
        let world = &host.world;
        let key = world
            .key(component)
            .ok_or_else(|| format!("there is no component '{component}'"))?;
        let index = world
            .def(key)
            .fields
            .iter()
            .position(|f| f.name == field)
            .ok_or_else(|| format!("component '{component}' has no field '{field}'"))?;
        match entity {
            Some(id) => {
                if !world.exists(id) {
                    return Err(format!("entity {id} was despawned"));
                }
                let value = world
                    .read_field(id, key, index)
                    .ok_or_else(|| format!("entity {id} no longer has a {component} component"))?;
                Ok(vec![reading(id, &value)])
            }
            None => Ok(world
                .ids()
                .filter_map(|id| world.read_field(id, key, index).map(|v| reading(id, &v)))
                .collect()),
        }
    }

    fn fields(&self, entity: u64) -> Vec<crate::scripting::debugger::FieldValue> {
        let Ok(host) = self.host.try_borrow() else {
            return Vec::new();
        };
        let world = &host.world;
        let mut out = Vec::new();
        for key in world.components_of(entity) {
            let def = world.def(key);
            if let Some(record) = world.read(entity, key) {
                for (f, v) in def.fields.iter().zip(record.0) {
                    out.push((def.name.clone(), f.name.clone(), reading(entity, &v).text));
                }
            }
        }
        out
    }

    fn frame(&self) -> u64 {
        self.host.try_borrow().map(|h| h.frame()).unwrap_or(0)
    }

    fn emit(&self, output: DebugOutput) -> Result<(), Box<DebugOutput>> {
        let Ok(mut host) = self.host.try_borrow_mut() else {
            return Err(Box::new(output));
        };
        host.push_event(match output {
            DebugOutput::Log {
                file,
                line,
                message,
            } => EventKind::Logpoint {
                file,
                line,
                message,
            },
            DebugOutput::Data(hit) => EventKind::DataChanged {
                entity: hit.entity,
                component: hit.component,
                field: hit.field,
                old: hit.old,
                new: hit.new,
                file: hit.file,
                line: hit.line,
            },
        });
        Ok(())
    }
}

/// Applies a command that only changes the debugger; `None` when
/// `command` is not one.
pub fn apply_debugger_command(
    debugger: &Debugger,
    command: &RuntimeCommand,
) -> Option<Result<(), crate::scripting::debugger::SpecError>> {
    Some(match command {
        RuntimeCommand::SetBreakpoint { file, line, on } => {
            debugger.set_breakpoint(file, *line, *on);
            Ok(())
        }
        RuntimeCommand::SetBreakpointSpec { file, line, spec } => {
            debugger.set_breakpoint_spec(file, *line, spec.clone())
        }
        RuntimeCommand::ClearBreakpoints => {
            debugger.clear_breakpoints();
            Ok(())
        }
        RuntimeCommand::RunToLine { file, line } => {
            debugger.set_run_to(Some((file.clone(), *line)));
            Ok(())
        }
        RuntimeCommand::SetBreakOnError(on) => {
            debugger.set_break_on_error(*on);
            Ok(())
        }
        RuntimeCommand::AddDataBreakpoint { entity, watch } => {
            DataBreakpoint::parse(watch, *entity)
                .and_then(|d| debugger.add_data_breakpoint(d))
                .map(|_| ())
        }
        RuntimeCommand::RemoveDataBreakpoint { id } => {
            if debugger.remove_data_breakpoint(*id) {
                Ok(())
            } else {
                Err(crate::scripting::debugger::SpecError(format!(
                    "there is no data breakpoint {id}"
                )))
            }
        }
        RuntimeCommand::TrackWrites { entity } => {
            debugger.track_writes(*entity);
            Ok(())
        }
        _ => return None,
    })
}
