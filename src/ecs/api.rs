//! The `ecs` functions, described once for both languages: their names
//! and parameters ([`FUNCTIONS`]), and what they say when a script calls
//! them wrongly. A binding only describes the value it got (in its
//! language's words, [`Got`]) and says how its language writes lists and
//! maps ([`Spelling`]); the sentences are these. The contract case
//! `tests/contract/misuse` runs the same misuses in Lua and Python and
//! compares the messages, and `tests/contract.rs` checks that both
//! languages' `ecs` hold exactly these functions.

use std::fmt;

/// What a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An entity id: a non-negative integer.
    Entity,
    /// A string.
    Str,
    /// A list of component names.
    Names,
    /// A map of component names to values.
    Components,
    /// Any value the languages exchange.
    Value,
    /// A function (in Python, also given by decorating one).
    Function,
    /// A number.
    Number,
    /// An integer.
    Integer,
    /// A system's or query's options (`without`, `reads`, `writes`).
    Options,
    /// Any number of values.
    Rest,
}

/// One parameter of an `ecs` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its name, as the typings and the docs write it.
    pub name: &'static str,
    /// What it takes.
    pub kind: Kind,
    /// How a message names it: `the component name`.
    pub what: &'static str,
    /// Whether it may be left out.
    pub optional: bool,
}

/// One `ecs` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// Its name, after `ecs.`.
    pub name: &'static str,
    /// Its parameters, in order.
    pub params: &'static [Param],
    /// Whether only a coroutine may call it (the waits).
    pub in_coroutine: bool,
}

const fn p(name: &'static str, kind: Kind, what: &'static str) -> Param {
    Param {
        name,
        kind,
        what,
        optional: false,
    }
}

const fn opt(name: &'static str, kind: Kind, what: &'static str) -> Param {
    Param {
        name,
        kind,
        what,
        optional: true,
    }
}

const fn f(name: &'static str, params: &'static [Param]) -> Function {
    Function {
        name,
        params,
        in_coroutine: false,
    }
}

const fn wait(name: &'static str, params: &'static [Param]) -> Function {
    Function {
        name,
        params,
        in_coroutine: true,
    }
}

const ID: Param = p("id", Kind::Entity, "the entity id");
const COMPONENT: Param = p("name", Kind::Str, "the component name");
const NAMES: Param = p("names", Kind::Names, "the component names");
const OPTIONS: Param = opt("opts", Kind::Options, "the options");
const EVENT: Param = p("event", Kind::Str, "the event name");

/// Every `ecs` function, in the order the docs present them. Both
/// languages' `ecs` hold exactly these and `persist`.
pub const FUNCTIONS: &[Function] = &[
    f(
        "component",
        &[COMPONENT, p("defaults", Kind::Value, "the defaults")],
    ),
    f(
        "spawn",
        &[p("components", Kind::Components, "the components")],
    ),
    f("despawn", &[ID]),
    f("exists", &[ID]),
    f("get", &[ID, COMPONENT]),
    f(
        "set",
        &[ID, COMPONENT, p("value", Kind::Value, "the value")],
    ),
    f("remove", &[ID, COMPONENT]),
    f("has", &[ID, COMPONENT]),
    f("query", &[NAMES, OPTIONS]),
    f("count", &[NAMES, OPTIONS]),
    f(
        "system",
        &[
            p("name", Kind::Str, "the system name"),
            opt("names", Kind::Names, "the component names"),
            p("fn", Kind::Function, "the system's function"),
            OPTIONS,
        ],
    ),
    f(
        "batch_system",
        &[
            p("name", Kind::Str, "the system name"),
            NAMES,
            p("fn", Kind::Function, "the system's function"),
            OPTIONS,
        ],
    ),
    f("emit", &[EVENT, opt("payload", Kind::Value, "the payload")]),
    f("on", &[EVENT, p("fn", Kind::Function, "the handler")]),
    f(
        "start",
        &[
            p("name", Kind::Str, "the coroutine name"),
            p("fn", Kind::Function, "the coroutine's function"),
            opt("args", Kind::Rest, "its arguments"),
        ],
    ),
    f("stop", &[p("id", Kind::Integer, "the coroutine id")]),
    wait("wait_frames", &[p("n", Kind::Integer, "the frame count")]),
    wait("wait_seconds", &[p("s", Kind::Number, "the seconds")]),
    wait("wait_event", &[EVENT]),
    f("frame", &[]),
    f("time", &[]),
    f("dt", &[]),
    f("random", &[]),
    f(
        "random_range",
        &[
            p("a", Kind::Number, "the lower bound"),
            p("b", Kind::Number, "the upper bound"),
        ],
    ),
    f("log", &[opt("values", Kind::Rest, "the values")]),
];

/// The fields of `ecs` that are not functions.
pub const FIELDS: &[&str] = &["persist"];

/// The function `call` (`ecs.get`) describes, if it is one.
pub fn function(call: &str) -> Option<&'static Function> {
    let name = call.strip_prefix("ecs.").unwrap_or(call);
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// How a message names parameter `param` of `call`: `the component name`.
/// What is not one of its parameters (an item of a list, an option,
/// `print`'s `sep`) is already said in words, and stays as written.
pub fn what(call: &str, param: &str) -> String {
    function(call)
        .and_then(|f| f.params.iter().find(|p| p.name == param))
        .map_or_else(|| param.to_string(), |p| p.what.to_string())
}

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

/// Parameter `param` of `call` (or the value `param` says in words) got
/// a value that is not a string.
pub fn not_a_string(call: &str, param: &str, got: &Got) -> String {
    format!("{call}: {} must be a string, got {got}", what(call, param))
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
    fn the_description_names_each_function_once_and_finds_its_parameters() {
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len());
        assert_eq!(what("ecs.get", "name"), "the component name");
        assert_eq!(what("ecs.system", "name"), "the system name");
        assert_eq!(what("ecs.nope", "x"), "x");
        // An item of a list is said in words, as written.
        assert_eq!(
            not_a_string(
                "ecs.query",
                "a component name",
                &Got::new("number", Some("3".into()))
            ),
            "ecs.query: a component name must be a string, got number 3"
        );
        assert!(function("ecs.wait_frames").unwrap().in_coroutine);
        assert!(!function("spawn").unwrap().in_coroutine);
    }

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
        assert_eq!(
            not_a_string("ecs.on", "event", &Got::new("nil", None)),
            "ecs.on: the event name must be a string, got nil"
        );
        assert_eq!(in_call("ecs.set", "no entity"), "ecs.set: no entity");
        assert_eq!(
            outside_coroutine(&PYTHON, "ecs.wait_frames"),
            "ecs.wait_frames can only be used inside a coroutine started with ecs.start, as yield ecs.wait_frames(...)"
        );
    }
}
