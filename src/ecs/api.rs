//! What the `ecs` functions say when a script calls them wrongly, written
//! once for both languages. A binding only describes the value it got (in
//! its language's words, [`Got`]) and says how its language writes lists
//! and maps ([`Spelling`]); the sentences are these. The contract case
//! `tests/contract/misuse` runs the same misuses in Lua and Python and
//! compares the messages.

use std::fmt;

/// How a language writes what the messages show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spelling {
    /// What a list of names is: `table` or `list`.
    pub list: &'static str,
    /// A list of component names, as written.
    pub names_example: &'static str,
    /// What a map of component names to values is, and one pair of it.
    pub map: (&'static str, &'static str),
    /// What `ecs.start` takes.
    pub coroutine_fn: &'static str,
    /// How a coroutine waits, after the call's name (`yield` comes first
    /// in Python).
    pub wait_prefix: &'static str,
}

/// Lua's words.
pub const LUA: Spelling = Spelling {
    list: "table",
    names_example: "{\"Position\", \"Velocity\"}",
    map: ("table", "name = value"),
    coroutine_fn: "a function",
    wait_prefix: "",
};

/// Python's words.
pub const PYTHON: Spelling = Spelling {
    list: "list",
    names_example: "[\"Position\", \"Velocity\"]",
    map: ("dict", "name: value"),
    coroutine_fn: "a generator function",
    wait_prefix: "yield ",
};

/// A value a script passed, as a message names it: its type in the
/// script's language and, for a number or a short string, the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    type_name: String,
    shown: Option<String>,
}

impl Got {
    /// A value of `type_name`, shown as `shown` when that helps.
    pub fn new(type_name: impl Into<String>, shown: Option<String>) -> Got {
        Got {
            type_name: type_name.into(),
            shown,
        }
    }

    /// A string value: shown quoted, cut to 40 characters.
    pub fn string(type_name: impl Into<String>, text: &str) -> Got {
        Got::new(type_name, Some(quoted(text)))
    }
}

impl fmt::Display for Got {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shown {
            Some(shown) => write!(f, "{} {shown}", self.type_name),
            None => f.write_str(&self.type_name),
        }
    }
}

/// A name a script chose (a system's, an event's, a coroutine's), quoted
/// and cut to 40 characters: a message stays a line whatever it was given.
fn quoted(name: &str) -> String {
    let mut cut: String = name.chars().take(40).collect();
    if cut.len() < name.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// `message` as an error of `call`: prefixed with the call unless it
/// names one already.
pub fn in_call(call: &str, message: &str) -> String {
    if message.starts_with("ecs.") {
        message.to_string()
    } else {
        format!("{call}: {message}")
    }
}

/// An entity id that is not a non-negative integer.
pub fn bad_entity_id(call: &str, got: &Got) -> String {
    format!("{call}: the entity id must be a non-negative integer, got {got}")
}

/// An argument that must be a string (`what`: "the event name").
pub fn not_a_string(call: &str, what: &str, got: &Got) -> String {
    format!("{call}: {what} must be a string, got {got}")
}

/// Component names that are not a list of them.
pub fn not_names(spelling: &Spelling, call: &str, got: &Got) -> String {
    format!(
        "{call}: expected a {} of component names such as {}, got {got}",
        spelling.list, spelling.names_example
    )
}

/// `ecs.system(name, x)` where `x` is neither a function nor names.
pub fn bad_system_args(spelling: &Spelling, name: &str, got: &Got) -> String {
    format!(
        "ecs.system({}, ...): expected a function, or a {} of component names and a function; got {got}",
        quoted(name),
        spelling.list
    )
}

/// `ecs.start(name, x)` where `x` is not what a coroutine runs.
pub fn not_a_coroutine(spelling: &Spelling, name: &str, got: &Got) -> String {
    format!(
        "ecs.start({}, ...): expected {}, got {got}",
        quoted(name),
        spelling.coroutine_fn
    )
}

/// `ecs.spawn(x)` where `x` is not a map of components.
pub fn not_components(spelling: &Spelling, got: &Got) -> String {
    format!(
        "ecs.spawn: expected a {} of component {}, got {got}",
        spelling.map.0, spelling.map.1
    )
}

/// An event's payload that cannot be sent (`message` says why).
pub fn bad_payload(event: &str, message: &str) -> String {
    format!("ecs.emit({}): payload: {message}", quoted(event))
}

/// A wait outside a coroutine.
pub fn outside_coroutine(spelling: &Spelling, call: &str) -> String {
    format!(
        "{call} can only be used inside a coroutine started with ecs.start, as {}{call}(...)",
        spelling.wait_prefix
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentences_differ_only_in_each_language_s_words() {
        let lua = bad_entity_id("ecs.get", &Got::string("string", "one"));
        let py = bad_entity_id("ecs.get", &Got::string("str", "one"));
        assert_eq!(
            lua,
            "ecs.get: the entity id must be a non-negative integer, got string \"one\""
        );
        assert_eq!(lua.replace("string", "str"), py);
        assert_eq!(
            not_names(&PYTHON, "ecs.query", &Got::new("int", Some("42".into()))),
            "ecs.query: expected a list of component names such as [\"Position\", \"Velocity\"], got int 42"
        );
        assert_eq!(in_call("ecs.set", "ecs.get: x"), "ecs.get: x");
        assert_eq!(in_call("ecs.set", "no entity"), "ecs.set: no entity");
        assert_eq!(
            outside_coroutine(&PYTHON, "ecs.wait_frames"),
            "ecs.wait_frames can only be used inside a coroutine started with ecs.start, as yield ecs.wait_frames(...)"
        );
    }
}
