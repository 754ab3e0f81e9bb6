//! The script debugger, language-neutral: breakpoints (with conditions,
//! hit counts and log messages), stepping, break on error, data
//! breakpoints on components, and the handler that decides what happens at
//! a break.
//!
//! Each language installs a line hook only while [`Debugger::is_active`]
//! (a breakpoint, a step, a run-to-cursor or a watched field exists), so a
//! project without any runs at full speed. When the hook reaches a line
//! that may stop, it calls [`Debugger::hit`] on the script's own thread
//! with a [`FrameAccess`] over the stopped stack; conditions and log
//! messages are evaluated through it, and the driver's handler (the GUI
//! session, the DAP server, a test) blocks there until the user continues
//! or steps, evaluating watches and console input through the same access.

use std::cell::{Cell, RefCell};

thread_local! {
    static IN_GROUP: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` as a system of a group that runs on the worker threads: an
/// error there is reported, not stopped at, and the debugger's state is
/// not touched (only read) from the calling thread meanwhile.
pub fn in_group<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_GROUP.with(|g| g.set(self.0));
        }
    }
    let _reset = Reset(IN_GROUP.with(|g| g.replace(true)));
    f()
}
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::StackFrame;

crate::message_error! {
    /// A breakpoint setting that is not one (a hit count, a data breakpoint's
    /// watch, an entity or field that does not exist), and why.
    SpecError
}

/// What the user chose at a break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugAction {
    /// Run on to the next breakpoint.
    Continue,
    /// Stop at the next line of this function (or of its caller once it
    /// returns); calls in between run on.
    StepOver,
    /// Stop at the very next line, entering calls.
    StepInto,
    /// Stop at the next line of the function that called this one; when
    /// this one is the outermost of the call, run to the end of the call.
    StepOut,
}

/// A value as the debugger shows it: in the locals, the watch list, the
/// console and hover tips.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Variable {
    /// The local's name, the key or index in its parent, or the watched
    /// expression.
    pub name: String,
    /// A short rendering.
    pub value: String,
    /// The language's type name.
    pub type_name: String,
    /// An expression in the script's language that yields this value
    /// (to expand it, or to watch it).
    pub expr: String,
    /// Whether it has children (a table, list, dict or object).
    pub expandable: bool,
    /// Whether the language counts it as true (conditions).
    #[serde(skip)]
    pub truthy: bool,
}

/// Children listed at most, per expanded value.
pub const CHILDREN_SHOWN: usize = 100;

/// Loop passes and calls an evaluation may make before it is stopped (an
/// endless loop typed into the console).
pub const EVALUATION_STEPS: u64 = 2_000_000;

/// Reading and changing a stopped stack, in the stopped script's language.
/// Frame 0 is the innermost frame of [`BreakInfo::frames`].
pub trait FrameAccess {
    /// Evaluates an expression in a frame, or runs a statement there (an
    /// assignment changes the frame's locals).
    fn evaluate(&mut self, frame: usize, code: &str) -> Result<Variable, String>;

    /// Whether an expression is true in a frame (a breakpoint's
    /// condition: evaluated at every pass of its line, so languages may
    /// skip rendering the value).
    fn is_true(&mut self, frame: usize, code: &str) -> Result<bool, String> {
        self.evaluate(frame, code).map(|v| v.truthy)
    }

    /// The children of the value of `expr` (fields, items, attributes), at
    /// most [`CHILDREN_SHOWN`].
    fn children(&mut self, frame: usize, expr: &str) -> Result<Vec<Variable>, String>;

    /// The locals of a frame, as variables that can be expanded.
    fn locals(&mut self, frame: usize) -> Result<Vec<Variable>, String>;

    /// Sets a local to the value of `value` (an expression: `5`, `"text"`,
    /// `true`), and returns it as now stored.
    fn set_local(&mut self, frame: usize, name: &str, value: &str) -> Result<Variable, String> {
        if !is_identifier(name) {
            return Err(format!("'{name}' is not a variable name"));
        }
        self.evaluate(frame, &format!("{name} = {value}"))?;
        self.evaluate(frame, name).map(|mut v| {
            v.name = name.to_string();
            v
        })
    }
}

/// Whether `text` is a plain variable name in both languages.
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A stack that cannot be read: the call has returned.
pub struct NoFrames;

impl FrameAccess for NoFrames {
    fn evaluate(&mut self, _: usize, _: &str) -> Result<Variable, String> {
        Err("the call has returned: there is no frame to evaluate in".into())
    }
    fn children(&mut self, _: usize, _: &str) -> Result<Vec<Variable>, String> {
        Err("the call has returned".into())
    }
    fn locals(&mut self, _: usize) -> Result<Vec<Variable>, String> {
        Ok(Vec::new())
    }
}

/// A change seen by a data breakpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataHit {
    /// The data breakpoint's id.
    pub id: u64,
    /// The entity whose field changed.
    pub entity: u64,
    /// Component name.
    pub component: String,
    /// Field name.
    pub field: String,
    /// The value before the write.
    pub old: String,
    /// The value after it.
    pub new: String,
    /// The script line that made the write (project-relative file).
    pub file: String,
    /// Its 1-based line.
    pub line: u32,
}

/// Where the script stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakInfo {
    /// Project-relative file.
    pub file: String,
    /// 1-based line, not yet run (for a data breakpoint: the line that
    /// made the write; for an error: the raising line).
    pub line: u32,
    /// The call stack, innermost first, with locals.
    pub frames: Vec<StackFrame>,
    /// The coroutine being resumed, if it is one.
    pub coroutine: Option<u64>,
    /// What was running: `system 'move'`, `coroutine 'patrol'`...
    pub context: String,
    /// Why it stopped: `breakpoint`, `step`, `cursor`, `error` or `data`.
    pub reason: &'static str,
    /// Counts the stops of this debugger: tells two stops at the same line
    /// apart.
    pub stop: u64,
    /// The error (for `error`), the change (for `data`), or why a
    /// breakpoint's condition could not be evaluated.
    pub message: Option<String>,
    /// The change, for `data`.
    pub data: Option<DataHit>,
}

/// Decides what to do at a break (blocks until the user chooses), reading
/// the stack through the access while it waits.
pub type BreakHandler = Box<dyn FnMut(&BreakInfo, &mut dyn FrameAccess) -> DebugAction>;

/// How a breakpoint's hits are counted before it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HitCondition {
    /// On exactly the nth hit (`5` or `== 5`).
    Equal(u64),
    /// From the nth hit on (`>= 5`).
    AtLeast(u64),
    /// After the nth hit (`> 5`).
    Above(u64),
    /// Before the nth hit (`< 5`).
    Below(u64),
    /// Up to the nth hit (`<= 5`).
    AtMost(u64),
    /// On every nth hit (`% 5`).
    Every(u64),
}

impl HitCondition {
    /// Parses `5`, `== 5`, `>= 5`, `> 5`, `< 5`, `<= 5` or `% 5`.
    pub fn parse(text: &str) -> Result<HitCondition, SpecError> {
        let text = text.trim();
        type Make = fn(u64) -> HitCondition;
        let ops: [(&str, Make); 6] = [
            (">=", HitCondition::AtLeast),
            ("<=", HitCondition::AtMost),
            ("==", HitCondition::Equal),
            (">", HitCondition::Above),
            ("<", HitCondition::Below),
            ("%", HitCondition::Every),
        ];
        let (make, number): (Make, &str) = ops
            .iter()
            .find_map(|(op, make)| text.strip_prefix(op).map(|rest| (*make, rest)))
            .unwrap_or((HitCondition::Equal, text));
        let n: u64 = number.trim().parse().map_err(|_| {
            format!("hit count '{text}' is not a count: write 5, == 5, >= 5, > 5, < 5, <= 5 or % 5")
        })?;
        if n == 0 && matches!(make(0), HitCondition::Every(_)) {
            return Err("hit count '% 0': every 0th hit never comes; use % 1 or more".into());
        }
        Ok(make(n))
    }

    /// Whether the `hits`th hit (1-based) stops.
    pub fn stops(self, hits: u64) -> bool {
        match self {
            HitCondition::Equal(n) => hits == n,
            HitCondition::AtLeast(n) => hits >= n,
            HitCondition::Above(n) => hits > n,
            HitCondition::Below(n) => hits < n,
            HitCondition::AtMost(n) => hits <= n,
            HitCondition::Every(n) => hits % n == 0,
        }
    }
}

/// What a breakpoint does beyond stopping: the user's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakpointSpec {
    /// Off breakpoints are kept but never stop.
    pub enabled: bool,
    /// An expression in the script's language; stops only when true.
    pub condition: Option<String>,
    /// `5`, `>= 5`, `% 5`...
    pub hit_count: Option<String>,
    /// A logpoint's message, with `{expr}` parts; never stops.
    pub log_message: Option<String>,
}

impl BreakpointSpec {
    /// A plain, enabled breakpoint.
    pub fn plain() -> BreakpointSpec {
        BreakpointSpec {
            enabled: true,
            ..BreakpointSpec::default()
        }
    }

    /// Checks what can be checked before the line runs (the hit count);
    /// conditions are checked in their language when reached.
    pub fn validate(&self) -> Result<Option<HitCondition>, SpecError> {
        match self.hit_count.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => HitCondition::parse(text).map(Some),
        }
    }
}

/// One breakpoint as the debugger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakpoint {
    /// Project-relative file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The user's settings.
    #[serde(flatten)]
    pub spec: BreakpointSpec,
    /// Times the line was reached with the condition true, this session.
    #[serde(skip)]
    pub hits: u64,
    /// Why the condition or a log part could not be evaluated, last time.
    #[serde(skip)]
    pub error: Option<String>,
}

/// When a data breakpoint stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataCondition {
    /// On any change of the field's value.
    Changes,
    /// When `field <op> value` becomes true (it was false before).
    Compare(CompareOp, f64),
}

/// A comparison of a data breakpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `<`
    Below,
    /// `<=`
    AtMost,
    /// `>`
    Above,
    /// `>=`
    AtLeast,
    /// `==`
    Equal,
    /// `~=` or `!=`
    NotEqual,
}

impl CompareOp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CompareOp::Below => a < b,
            CompareOp::AtMost => a <= b,
            CompareOp::Above => a > b,
            CompareOp::AtLeast => a >= b,
            CompareOp::Equal => a == b,
            CompareOp::NotEqual => a != b,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Below => "<",
            CompareOp::AtMost => "<=",
            CompareOp::Above => ">",
            CompareOp::AtLeast => ">=",
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
        }
    }
}

/// A watchpoint on component data: one entity's field, or a comparison
/// over every entity's field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataBreakpoint {
    /// Given by the debugger.
    pub id: u64,
    /// The entity, or `None` for every entity with the component.
    pub entity: Option<u64>,
    /// Component name.
    pub component: String,
    /// Field name.
    pub field: String,
    /// When it stops.
    pub condition: DataCondition,
    /// Why it no longer checks (the entity was despawned...).
    #[serde(skip)]
    pub error: Option<String>,
}

impl DataBreakpoint {
    /// `Health.hp of entity 12 changes`, `Health.hp < 0`.
    pub fn describe(&self) -> String {
        let target = format!("{}.{}", self.component, self.field);
        match (&self.condition, self.entity) {
            (DataCondition::Changes, Some(e)) => format!("{target} of entity {e} changes"),
            (DataCondition::Changes, None) => format!("{target} changes (any entity)"),
            (DataCondition::Compare(op, v), Some(e)) => {
                format!("{target} of entity {e} {} {v}", op.symbol())
            }
            (DataCondition::Compare(op, v), None) => format!("{target} {} {v}", op.symbol()),
        }
    }

    /// Parses `Health.hp < 0` (any entity) or `Health.hp changes`.
    pub fn parse(text: &str, entity: Option<u64>) -> Result<DataBreakpoint, SpecError> {
        let text = text.trim();
        let ops = [
            ("<=", CompareOp::AtMost),
            (">=", CompareOp::AtLeast),
            ("==", CompareOp::Equal),
            ("!=", CompareOp::NotEqual),
            ("~=", CompareOp::NotEqual),
            ("<", CompareOp::Below),
            (">", CompareOp::Above),
        ];
        let found = ops
            .iter()
            .find_map(|(s, op)| text.find(s).map(|at| (at, s.len(), *op)));
        let (target, condition) = match found {
            Some((at, len, op)) => {
                let value = text[at + len..].trim();
                let value: f64 = value
                    .parse()
                    .map_err(|_| format!("'{value}' is not a number: write Component.field < 0"))?;
                (text[..at].trim(), DataCondition::Compare(op, value))
            }
            None => (
                text.strip_suffix("changes").unwrap_or(text).trim(),
                DataCondition::Changes,
            ),
        };
        let Some((component, field)) = target.split_once('.') else {
            return Err(SpecError(format!(
                "'{text}': write Component.field < value, or Component.field changes"
            )));
        };
        if !is_identifier(component.trim()) || !is_identifier(field.trim()) {
            return Err(SpecError(format!("'{target}' is not Component.field")));
        }
        Ok(DataBreakpoint {
            id: 0,
            entity,
            component: component.trim().to_string(),
            field: field.trim().to_string(),
            condition,
            error: None,
        })
    }
}

/// A field's value as the world holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldReading {
    /// The entity.
    pub entity: u64,
    /// The value as a number, when it is one.
    pub number: Option<f64>,
    /// The value, rendered (equal renderings are equal values).
    pub text: String,
}

/// The world as data breakpoints and write tracking read it.
pub trait WorldProbe {
    /// Whether the world can be read now (not in the middle of a change).
    fn ready(&self) -> bool;

    /// The field of one entity, or of every entity with the component.
    fn field(
        &self,
        entity: Option<u64>,
        component: &str,
        field: &str,
    ) -> Result<Vec<FieldReading>, String>;

    /// Every field of an entity, as (component, field, value).
    fn fields(&self, entity: u64) -> Vec<FieldValue>;

    /// The frame being run.
    fn frame(&self) -> u64;

    /// Writes a logpoint's line or a data change to the event stream, in
    /// order with the scripts' own output; gives it back when it cannot.
    fn emit(&self, output: DebugOutput) -> Result<(), Box<DebugOutput>>;
}

/// The last write to a field, as write tracking saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Writer {
    /// Project-relative file of the writing line.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The frame it happened in.
    pub frame: u64,
    /// What was running (`system 'move'`).
    pub context: String,
}

/// What the debugger produced that is not a stop, for the event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum DebugOutput {
    /// A logpoint's message.
    Log {
        /// Project-relative file.
        file: String,
        /// 1-based line.
        line: u32,
        /// The message with its `{expr}` parts evaluated.
        message: String,
    },
    /// A data breakpoint saw a change.
    Data(DataHit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    None,
    Over {
        call: u64,
        depth: u32,
    },
    Into {
        call: u64,
    },
    Out {
        call: u64,
        depth: u32,
    },
    /// The next line any script runs, in any call: a pause, or a step
    /// that left its call when steps cross calls.
    Anywhere,
}

/// One field of an entity: (component, field, rendered value).
pub type FieldValue = (String, String, String);

/// A file and a 1-based line.
pub type Place = (String, u32);

/// Breakpoints, the stepping state, data breakpoints and the break handler
/// of one runtime.
pub struct Debugger {
    breakpoints: RefCell<BTreeMap<String, BTreeMap<u32, Breakpoint>>>,
    /// Whether any hook must run; recomputed on every change, read on
    /// every line.
    active: Cell<bool>,
    step: Cell<Step>,
    handler: RefCell<Option<BreakHandler>>,
    /// Increases with every script call, so a step never crosses into a
    /// different call.
    call: Cell<u64>,
    coroutine: Cell<Option<u64>>,
    context: RefCell<String>,
    breaking: Cell<bool>,
    /// Run to cursor: a one-time stop at this line (any call), given up at
    /// any other stop.
    run_to: RefCell<Option<(String, u32)>>,
    /// The last script line seen (call, file hash, line): a language may
    /// report a line again when a call made from it returns; that is not a
    /// new line.
    last_line: Cell<(u64, u64, u32)>,
    break_on_error: Cell<bool>,
    data: RefCell<Vec<DataBreakpoint>>,
    /// Each data breakpoint's last readings, in step with `data`.
    data_seen: RefCell<Vec<Vec<FieldReading>>>,
    next_data_id: Cell<u64>,
    /// Write tracking: the entity and its fields' last values.
    tracked: RefCell<Option<(u64, Vec<FieldValue>)>>,
    writers: RefCell<BTreeMap<(u64, String, String), Writer>>,
    probe: RefCell<Option<Box<dyn WorldProbe>>>,
    /// While data is watched: the line that ran last, to name a write.
    previous: RefCell<(String, u32)>,
    pending_data: RefCell<Option<DataHit>>,
    output: RefCell<Vec<DebugOutput>>,
    /// Stops so far.
    stops: Cell<u64>,
    /// Step to next line: stop at the first line this coroutine runs when
    /// it is next resumed, other than the one it is suspended at.
    /// With the step to take once it is (its call replaced by the
    /// resume's): into for the GUI's step to next line; over or out, with
    /// the depth, for a step that left a coroutine's resume.
    next_line_of: RefCell<Option<(u64, Option<Place>, Step)>>,
    /// Whether a step that leaves its call goes on to the next line run
    /// (an editor's debugger) rather than ending with the call (the GUI,
    /// whose world then rests between frames).
    step_across: Cell<bool>,
    /// The reason a [`Step::Anywhere`] stop gives: `pause` or `step`.
    anywhere_reason: Cell<&'static str>,
}

impl Default for Debugger {
    fn default() -> Self {
        Debugger {
            breakpoints: RefCell::default(),
            active: Cell::new(false),
            step: Cell::new(Step::None),
            handler: RefCell::default(),
            call: Cell::new(0),
            coroutine: Cell::new(None),
            context: RefCell::default(),
            breaking: Cell::new(false),
            run_to: RefCell::default(),
            last_line: Cell::new((0, 0, 0)),
            break_on_error: Cell::new(false),
            data: RefCell::default(),
            data_seen: RefCell::default(),
            next_data_id: Cell::new(1),
            tracked: RefCell::default(),
            writers: RefCell::default(),
            probe: RefCell::default(),
            previous: RefCell::default(),
            pending_data: RefCell::default(),
            output: RefCell::default(),
            next_line_of: RefCell::new(None),
            stops: Cell::new(0),
            step_across: Cell::new(false),
            anywhere_reason: Cell::new("pause"),
        }
    }
}

/// A cheap hash of a file name, to spot a repeated line without keeping
/// the name.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// A debugger shared by a runtime and its backends.
pub type SharedDebugger = Rc<Debugger>;

/// The name in a context (`system 'move'` → `move`).
fn context_name(context: &str) -> Option<&str> {
    let start = context.find('\'')?;
    let end = context.rfind('\'')?;
    (end > start + 1).then(|| &context[start + 1..end])
}

/// Names the frames a language left nameless: the outermost after what
/// was called (the system, handler or coroutine of `context`), the others
/// as anonymous functions.
pub fn name_frames(frames: &mut [StackFrame], context: &str) {
    let last = frames.len().saturating_sub(1);
    for (i, frame) in frames.iter_mut().enumerate() {
        let nameless = frame.function.is_empty()
            || frame.function == "?"
            || frame.function.starts_with("function <");
        if !nameless {
            continue;
        }
        frame.function = match context_name(context) {
            Some(name) if i == last => name.to_string(),
            _ => "anonymous function".to_string(),
        };
    }
}

/// The name a Lua function is defined under, read from its first line
/// (`local function patrol(`, `function M.step(`, `step = function(`): a
/// function called by the runtime or a coroutine has no name of its own.
pub fn name_from_source(root: &std::path::Path, file: &str, line: u32) -> Option<String> {
    // Only the project's own files: a chunk's name is the script's to
    // choose (`load(code, "@/etc/passwd")`), and must not make the host
    // read, and show a piece of, a file outside the project.
    let inside = std::path::Path::new(file)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        return None;
    }
    let text = std::fs::read_to_string(root.join(file)).ok()?;
    let source = text.lines().nth(line.checked_sub(1)? as usize)?;
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == ':';
    if let Some(at) = source.find("function") {
        let after = source[at + "function".len()..].trim_start();
        let name: String = after.chars().take_while(|&c| is_name(c)).collect();
        if !name.is_empty() {
            return Some(name);
        }
        // `name = function(`
        let before = source[..at].trim_end();
        let Some(before) = before.strip_suffix('=') else {
            // `ecs.system("move", function(`: the name the function is
            // registered under.
            let quoted = before.split(['"', '\'']).nth(1)?;
            return (!quoted.is_empty() && quoted.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .then(|| quoted.to_string());
        };
        let name: String = before
            .trim_end()
            .chars()
            .rev()
            .take_while(|&c| is_name(c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return (!name.is_empty()).then_some(name);
    }
    None
}

/// Splits a log message into text and `{expr}` parts.
fn log_parts(message: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        parts.push((false, &rest[..open]));
        parts.push((true, &rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    parts.push((false, rest));
    parts
}

impl Debugger {
    /// True while a hook must run: a breakpoint, a step, a run to cursor,
    /// a data breakpoint or write tracking.
    pub fn is_active(&self) -> bool {
        self.active.get()
    }

    fn refresh(&self) {
        self.active.set(
            self.step.get() != Step::None
                || !self.breakpoints.borrow().is_empty()
                || self.run_to.borrow().is_some()
                || self.next_line_of.borrow().is_some()
                || self.watching_data(),
        );
    }

    fn watching_data(&self) -> bool {
        self.probe.borrow().is_some()
            && (self.data.borrow().iter().any(|d| d.error.is_none())
                || self.tracked.borrow().is_some())
    }

    /// Stops at the next line any script runs, whatever the call, with
    /// the reason `reason` (`pause`, or `step` from between frames).
    pub fn stop_at_next_line(&self, reason: &'static str) {
        self.anywhere_reason.set(reason);
        self.step.set(Step::Anywhere);
        self.refresh();
    }

    /// Gives up a pause or step that has not stopped yet (the coroutine
    /// step too).
    pub fn cancel_step(&self) {
        self.step.set(Step::None);
        *self.next_line_of.borrow_mut() = None;
        self.refresh();
    }

    /// Whether a step or pause waits for a line beyond the current call:
    /// frames must run for it to stop.
    pub fn step_pending(&self) -> bool {
        self.step.get() == Step::Anywhere || self.next_line_of.borrow().is_some()
    }

    /// Whether a step that leaves its call goes on to the next line run:
    /// in a coroutine, the coroutine's next line once it is resumed;
    /// elsewhere, the next line of any script.
    pub fn set_step_across_calls(&self, on: bool) {
        self.step_across.set(on);
    }

    /// See [`Debugger::set_step_across_calls`].
    pub fn step_across_calls(&self) -> bool {
        self.step_across.get()
    }

    /// Step to next line in a suspended coroutine: stop at the first line
    /// it runs when next resumed (or not, with `None`).
    /// `at` is where it is suspended: resuming finishes that line, which
    /// is not a new one.
    pub fn step_coroutine(&self, coroutine: Option<u64>, at: Option<(String, u32)>) {
        *self.next_line_of.borrow_mut() = coroutine.map(|id| (id, at, Step::Into { call: 0 }));
        self.refresh();
    }

    /// The coroutine a step to next line waits for.
    pub fn stepping_coroutine(&self) -> Option<u64> {
        self.next_line_of.borrow().as_ref().map(|(id, _, _)| *id)
    }

    /// Run to cursor: stop once when `file:line` is reached (or not, with
    /// `None`). Any other stop first gives it up.
    pub fn set_run_to(&self, target: Option<(String, u32)>) {
        *self.run_to.borrow_mut() = target;
        self.refresh();
    }

    /// Sets or clears a plain breakpoint; setting one where a breakpoint
    /// is keeps its settings. A line without code never stops (the
    /// languages report lines only where code starts).
    pub fn set_breakpoint(&self, file: &str, line: u32, on: bool) {
        {
            let mut all = self.breakpoints.borrow_mut();
            if on {
                all.entry(file.to_string())
                    .or_default()
                    .entry(line)
                    .or_insert_with(|| Breakpoint {
                        file: file.to_string(),
                        line,
                        spec: BreakpointSpec::plain(),
                        hits: 0,
                        error: None,
                    });
            } else if let Some(lines) = all.get_mut(file) {
                lines.remove(&line);
                if lines.is_empty() {
                    all.remove(file);
                }
            }
        }
        self.refresh();
    }

    /// Sets a breakpoint with its settings (a condition, a hit count, a log
    /// message, off), replacing any at that line. A hit count that is not
    /// one is refused with the reason.
    pub fn set_breakpoint_spec(
        &self,
        file: &str,
        line: u32,
        spec: BreakpointSpec,
    ) -> Result<(), SpecError> {
        spec.validate()?;
        let clean = |s: Option<String>| s.filter(|t| !t.trim().is_empty());
        let spec = BreakpointSpec {
            enabled: spec.enabled,
            condition: clean(spec.condition),
            hit_count: clean(spec.hit_count),
            log_message: clean(spec.log_message),
        };
        self.breakpoints
            .borrow_mut()
            .entry(file.to_string())
            .or_default()
            .insert(
                line,
                Breakpoint {
                    file: file.to_string(),
                    line,
                    spec,
                    hits: 0,
                    error: None,
                },
            );
        self.refresh();
        Ok(())
    }

    /// Removes every breakpoint.
    pub fn clear_breakpoints(&self) {
        self.breakpoints.borrow_mut().clear();
        self.refresh();
    }

    /// Every breakpoint's line, by file (off ones included).
    pub fn breakpoints(&self) -> BTreeMap<String, BTreeSet<u32>> {
        self.breakpoints
            .borrow()
            .iter()
            .map(|(file, lines)| (file.clone(), lines.keys().copied().collect()))
            .collect()
    }

    /// Every breakpoint with its settings, hits and last error, by file
    /// and line.
    pub fn breakpoint_list(&self) -> Vec<Breakpoint> {
        self.breakpoints
            .borrow()
            .values()
            .flat_map(|lines| lines.values().cloned())
            .collect()
    }

    /// True when `file:line` has a breakpoint that is on.
    pub fn has_breakpoint(&self, file: &str, line: u32) -> bool {
        self.breakpoints
            .borrow()
            .get(file)
            .and_then(|lines| lines.get(&line))
            .is_some_and(|b| b.spec.enabled)
    }

    /// Stop when a system, handler or coroutine raises (only where a
    /// handler is installed).
    pub fn set_break_on_error(&self, on: bool) {
        self.break_on_error.set(on);
    }

    /// The break on error setting (whether or not a handler is there).
    pub fn break_on_error_setting(&self) -> bool {
        self.break_on_error.get()
    }

    /// Whether an error stops before it is reported. Never in a system of
    /// a group running on the worker threads (see [`in_group`]): a stop
    /// there could not hold the whole world still.
    pub fn breaks_on_error(&self) -> bool {
        !IN_GROUP.with(Cell::get) && self.break_on_error.get() && self.handler.borrow().is_some()
    }

    /// Installs the driver's handler; without one, breaks continue at once.
    pub fn set_handler(&self, handler: Option<BreakHandler>) {
        *self.handler.borrow_mut() = handler;
    }

    /// Installs what data breakpoints and write tracking read the world
    /// through.
    pub fn set_probe(&self, probe: Option<Box<dyn WorldProbe>>) {
        *self.probe.borrow_mut() = probe;
        self.refresh();
    }

    /// Adds a data breakpoint after checking that its entity, component
    /// and field exist; returns its id.
    pub fn add_data_breakpoint(&self, mut data: DataBreakpoint) -> Result<u64, SpecError> {
        let readings = {
            let probe = self.probe.borrow();
            let probe = probe
                .as_ref()
                .ok_or("data breakpoints need a world to watch")?;
            probe.field(data.entity, &data.component, &data.field)?
        };
        if let DataCondition::Compare(..) = data.condition
            && let Some(r) = readings.iter().find(|r| r.number.is_none())
        {
            return Err(SpecError(format!(
                "{}.{} of entity {} is {}, not a number: it can only be watched for changes",
                data.component, data.field, r.entity, r.text
            )));
        }
        data.id = self.next_data_id.get();
        self.next_data_id.set(data.id + 1);
        data.error = None;
        let id = data.id;
        self.data.borrow_mut().push(data);
        self.data_seen.borrow_mut().push(readings);
        self.refresh();
        Ok(id)
    }

    /// Removes a data breakpoint; false if there was none with that id.
    pub fn remove_data_breakpoint(&self, id: u64) -> bool {
        let at = self.data.borrow().iter().position(|d| d.id == id);
        if let Some(at) = at {
            self.data.borrow_mut().remove(at);
            self.data_seen.borrow_mut().remove(at);
        }
        self.refresh();
        at.is_some()
    }

    /// Every data breakpoint, with why it stopped checking if it did.
    pub fn data_breakpoints(&self) -> Vec<DataBreakpoint> {
        self.data.borrow().clone()
    }

    /// Tracks who writes each field of `entity` (or nothing). Writes seen
    /// before are kept.
    pub fn track_writes(&self, entity: Option<u64>) {
        let start = entity.map(|e| {
            let fields = self
                .probe
                .borrow()
                .as_ref()
                .map(|p| p.fields(e))
                .unwrap_or_default();
            (e, fields)
        });
        *self.tracked.borrow_mut() = start;
        self.refresh();
    }

    /// The entity whose writes are tracked.
    pub fn tracked_entity(&self) -> Option<u64> {
        self.tracked.borrow().as_ref().map(|(e, _)| *e)
    }

    /// The last writer of each tracked field of `entity`, by (component,
    /// field).
    pub fn writers(&self, entity: u64) -> BTreeMap<(String, String), Writer> {
        self.writers
            .borrow()
            .iter()
            .filter(|((e, _, _), _)| *e == entity)
            .map(|((_, c, f), w)| ((c.clone(), f.clone()), w.clone()))
            .collect()
    }

    fn emit(&self, output: DebugOutput) {
        let probe = self.probe.borrow();
        self.emit_with(probe.as_deref(), output);
    }

    fn emit_with(&self, probe: Option<&dyn WorldProbe>, output: DebugOutput) {
        let kept = match probe {
            Some(probe) => probe.emit(output).err().map(|kept| *kept),
            None => Some(output),
        };
        if let Some(output) = kept {
            self.output.borrow_mut().push(output);
        }
    }

    /// Logpoint messages and data changes that could not be written to the
    /// event stream (no world to write to), since the last call.
    pub fn take_output(&self) -> Vec<DebugOutput> {
        std::mem::take(&mut *self.output.borrow_mut())
    }

    /// Marks the start of a script call; `coroutine` is the coroutine being
    /// resumed, `context` what runs (for the break view).
    pub fn begin_call(&self, coroutine: Option<u64>, context: impl FnOnce() -> String) {
        self.call.set(self.call.get() + 1);
        self.coroutine.set(coroutine);
        let stepping = self
            .next_line_of
            .borrow()
            .as_ref()
            .is_some_and(|(id, _, _)| Some(*id) == coroutine);
        if stepping && let Some((_, at, step)) = self.next_line_of.borrow_mut().take() {
            let call = self.call.get();
            self.step.set(match step {
                Step::Over { depth, .. } => Step::Over { call, depth },
                Step::Out { depth, .. } => Step::Out { call, depth },
                _ => Step::Into { call },
            });
            if let Some((file, line)) = at {
                self.last_line.set((call, hash(&file), line));
            }
        }
        if self.is_active() || self.break_on_error.get() {
            *self.context.borrow_mut() = context();
        }
        if self.watching_data() {
            // What changed between calls was not written by a script line.
            self.check_data(true);
            *self.previous.borrow_mut() = (String::new(), 0);
        }
    }

    /// Marks the end of a script call: a step still in progress ends here
    /// (the world stays paused between frames). A write made by the call's
    /// last line is seen here.
    pub fn end_call(&self) {
        if self.watching_data()
            && let Some(hit) = self.check_data(false)
        {
            let (file, line) = (hit.file.clone(), hit.line);
            *self.pending_data.borrow_mut() = Some(hit);
            self.hit(file, line, 0, Vec::new, "data", &mut NoFrames);
        }
        let step = self.step.get();
        // A step off the end of a call other than a coroutine's goes on to
        // the next line run; a coroutine's goes on in its next resume.
        let coroutine = self.coroutine.get();
        if self.step_across.get()
            && let Some(id) = coroutine
            && !matches!(step, Step::None | Step::Anywhere)
            && self.next_line_of.borrow().is_none()
        {
            *self.next_line_of.borrow_mut() = Some((id, None, step));
        }
        let across = self.step_across.get()
            && step != Step::None
            && (step == Step::Anywhere || coroutine.is_none());
        if across {
            self.anywhere_reason.set("step");
        }
        self.step
            .set(if across { Step::Anywhere } else { Step::None });
        self.coroutine.set(None);
        self.refresh();
    }

    /// Compares the watched fields with their last readings: records
    /// writers and data changes, and returns the first change that stops.
    /// `silent` only takes new readings.
    fn check_data(&self, silent: bool) -> Option<DataHit> {
        let probe = self.probe.borrow();
        let probe = probe.as_ref().filter(|p| p.ready())?;
        let (file, line) = self.previous.borrow().clone();
        let mut first = None;
        {
            let mut data = self.data.borrow_mut();
            let mut seen = self.data_seen.borrow_mut();
            for (watch, old) in data.iter_mut().zip(seen.iter_mut()) {
                if watch.error.is_some() {
                    continue;
                }
                let new = match probe.field(watch.entity, &watch.component, &watch.field) {
                    Ok(new) => new,
                    Err(e) => {
                        watch.error = Some(e);
                        continue;
                    }
                };
                if !silent && line > 0 {
                    for reading in &new {
                        let before = old.iter().find(|o| o.entity == reading.entity);
                        let fires = match watch.condition {
                            DataCondition::Changes => {
                                before.is_some_and(|b| b.text != reading.text)
                            }
                            DataCondition::Compare(op, value) => {
                                let holds =
                                    |r: &FieldReading| r.number.is_some_and(|n| op.holds(n, value));
                                holds(reading) && !before.is_some_and(holds)
                            }
                        };
                        if fires {
                            let hit = DataHit {
                                id: watch.id,
                                entity: reading.entity,
                                component: watch.component.clone(),
                                field: watch.field.clone(),
                                old: before.map(|b| b.text.clone()).unwrap_or_default(),
                                new: reading.text.clone(),
                                file: file.clone(),
                                line,
                            };
                            self.emit_with(Some(probe.as_ref()), DebugOutput::Data(hit.clone()));
                            first.get_or_insert(hit);
                        }
                    }
                }
                *old = new;
            }
        }
        let mut tracked = self.tracked.borrow_mut();
        if let Some((entity, old)) = tracked.as_mut() {
            let new = probe.fields(*entity);
            if !silent && line > 0 {
                let mut writers = self.writers.borrow_mut();
                for (component, field, value) in &new {
                    let changed = old
                        .iter()
                        .find(|(c, f, _)| c == component && f == field)
                        .is_none_or(|(_, _, v)| v != value);
                    if changed {
                        writers.insert(
                            (*entity, component.clone(), field.clone()),
                            Writer {
                                file: file.clone(),
                                line,
                                frame: probe.frame(),
                                context: self.context.borrow().clone(),
                            },
                        );
                    }
                }
            }
            *old = new;
        }
        first
    }

    /// Whether the line about to run should stop, and the stack depth
    /// (computed only when it matters: stepping, or a breakpoint here).
    pub fn should_break(
        &self,
        file: &str,
        line: u32,
        depth: impl FnOnce() -> u32,
    ) -> Option<(&'static str, u32)> {
        if self.breaking.get() {
            return None;
        }
        if self.watching_data() {
            let change = self.check_data(false);
            *self.previous.borrow_mut() = (file.to_string(), line);
            if let Some(hit) = change {
                *self.pending_data.borrow_mut() = Some(hit);
                return Some(("data", depth()));
            }
        }
        let call = self.call.get();
        let file_hash = hash(file);
        if self.last_line.get() == (call, file_hash, line) {
            return None;
        }
        self.last_line.set((call, file_hash, line));
        let step_depth = match self.step.get() {
            Step::Anywhere => return Some((self.anywhere_reason.get(), depth())),
            Step::Into { call: c } if c == call => return Some(("step", depth())),
            Step::Over { call: c, depth: d } if c == call => Some(d),
            // Out of a function: a line in a frame shallower than it.
            Step::Out { call: c, depth: d } if c == call && d > 1 => Some(d - 1),
            _ => None,
        };
        let cursor = self
            .run_to
            .borrow()
            .as_ref()
            .is_some_and(|(f, l)| *l == line && f == file);
        if cursor {
            return Some(("cursor", depth()));
        }
        let breakpoint = self.has_breakpoint(file, line);
        if step_depth.is_none() && !breakpoint {
            return None;
        }
        let depth = depth();
        if step_depth.is_some_and(|d| depth <= d) {
            return Some(("step", depth));
        }
        breakpoint.then_some(("breakpoint", depth))
    }

    /// Decides whether a breakpoint that was reached stops: its
    /// condition, hit count and log message, evaluated in frame 0. Returns
    /// the stop's message (a condition's error), or `None` to run on.
    fn breakpoint_stops(
        &self,
        file: &str,
        line: u32,
        access: &mut dyn FrameAccess,
    ) -> Option<Option<String>> {
        let spec = self
            .breakpoints
            .borrow()
            .get(file)
            .and_then(|lines| lines.get(&line))
            .map(|b| b.spec.clone())?;
        if !spec.enabled {
            return None;
        }
        self.breaking.set(true);
        let mut error = None;
        if let Some(condition) = &spec.condition {
            match access.is_true(0, condition) {
                Ok(false) => {
                    self.breaking.set(false);
                    return None;
                }
                Ok(_) => {}
                Err(e) => error = Some(format!("condition '{condition}' failed: {e}")),
            }
        }
        let hits = {
            let mut all = self.breakpoints.borrow_mut();
            let Some(b) = all.get_mut(file).and_then(|lines| lines.get_mut(&line)) else {
                self.breaking.set(false);
                return None;
            };
            b.hits += 1;
            b.error.clone_from(&error);
            b.hits
        };
        if error.is_none()
            && let Ok(Some(count)) = spec.validate()
            && !count.stops(hits)
        {
            self.breaking.set(false);
            return None;
        }
        if let Some(message) = &spec.log_message {
            let mut text = String::new();
            let mut failed = None;
            for (is_expr, part) in log_parts(message) {
                if !is_expr {
                    text.push_str(part);
                    continue;
                }
                match access.evaluate(0, part) {
                    Ok(v) => text.push_str(&v.value),
                    Err(e) => {
                        text.push_str(&format!("{{error: {e}}}"));
                        failed.get_or_insert(format!("log part '{{{part}}}' failed: {e}"));
                    }
                }
            }
            if let Some(b) = self
                .breakpoints
                .borrow_mut()
                .get_mut(file)
                .and_then(|lines| lines.get_mut(&line))
            {
                b.error = error.clone().or(failed);
            }
            self.emit(DebugOutput::Log {
                file: file.to_string(),
                line,
                message: text,
            });
            self.breaking.set(false);
            // A logpoint never stops, unless its condition is broken.
            return error.map(Some);
        }
        self.breaking.set(false);
        Some(error)
    }

    /// A line that [`Debugger::should_break`] picked: checks a
    /// breakpoint's condition, hit count and log message, then stops there
    /// and arms the chosen step. `depth` is the stack depth of the stopped
    /// line.
    pub fn hit(
        &self,
        file: String,
        line: u32,
        depth: u32,
        frames: impl FnOnce() -> Vec<StackFrame>,
        reason: &'static str,
        access: &mut dyn FrameAccess,
    ) -> DebugAction {
        let mut message = None;
        let mut data = None;
        let (mut file, mut line) = (file, line);
        match reason {
            "breakpoint" => match self.breakpoint_stops(&file, line, access) {
                Some(error) => message = error,
                None => return DebugAction::Continue,
            },
            "data" => {
                if let Some(hit) = self.pending_data.borrow_mut().take() {
                    let entity_desc =
                        format!("{}.{} of entity {}", hit.component, hit.field, hit.entity);
                    message = Some(format!(
                        "{entity_desc} changed from {} to {} at {}:{}",
                        hit.old, hit.new, hit.file, hit.line
                    ));
                    if hit.line > 0 {
                        file.clone_from(&hit.file);
                        line = hit.line;
                    }
                    data = Some(hit);
                }
            }
            _ => {}
        }
        let context = self.context.borrow().clone();
        let mut frames = frames();
        name_frames(&mut frames, &context);
        // A data stop shows the writing line in the frame that made it.
        if reason == "data"
            && let Some(first) = frames.first_mut()
            && first.file == file
        {
            first.line = line;
        }
        self.stops.set(self.stops.get() + 1);
        let info = BreakInfo {
            file,
            line,
            frames,
            coroutine: self.coroutine.get(),
            context,
            reason,
            message,
            data,
            stop: self.stops.get(),
        };
        self.stop(&info, depth, access)
    }

    /// Stops where a system, handler or coroutine raised, when break on
    /// error is on: the stack is the raising one. The error then takes its
    /// course whatever the user chose.
    pub fn hit_error(
        &self,
        mut frames: Vec<StackFrame>,
        message: String,
        access: &mut dyn FrameAccess,
    ) {
        if !self.breaks_on_error() || self.breaking.get() {
            return;
        }
        let context = self.context.borrow().clone();
        name_frames(&mut frames, &context);
        let (file, line) = frames
            .first()
            .map(|f| (f.file.clone(), f.line))
            .unwrap_or_default();
        self.stops.set(self.stops.get() + 1);
        let info = BreakInfo {
            file,
            line,
            frames,
            coroutine: self.coroutine.get(),
            context,
            reason: "error",
            message: Some(message),
            data: None,
            stop: self.stops.get(),
        };
        self.stop(&info, 0, access);
        self.step.set(Step::None);
        self.refresh();
    }

    fn stop(&self, info: &BreakInfo, depth: u32, access: &mut dyn FrameAccess) -> DebugAction {
        self.breaking.set(true);
        self.run_to.borrow_mut().take();
        if self.step_across.get() {
            // This stop meets a step that was waiting for a resume.
            self.next_line_of.borrow_mut().take();
        }
        let stopped = std::time::Instant::now();
        // Waiting for the user is not time the scripts spent: neither the
        // clocks nor the sampler count it.
        struct SamplingPaused;
        impl Drop for SamplingPaused {
            fn drop(&mut self) {
                crate::profiling::samples::set_paused(false);
            }
        }
        crate::profiling::samples::set_paused(true);
        let paused = SamplingPaused;
        let action = match self.handler.borrow_mut().as_mut() {
            Some(handler) => handler(info, access),
            None => DebugAction::Continue,
        };
        drop(paused);
        crate::profiling::stopped::add(stopped.elapsed());
        self.breaking.set(false);
        let call = self.call.get();
        self.step.set(match action {
            DebugAction::Continue => Step::None,
            DebugAction::StepOver => Step::Over { call, depth },
            DebugAction::StepInto => Step::Into { call },
            DebugAction::StepOut => Step::Out { call, depth },
        });
        // Where steps cross calls, a step in a coroutine that outlasts this
        // resume goes on in the next one, from this line.
        if self.step_across.get()
            && action != DebugAction::Continue
            && let Some(id) = self.coroutine.get()
        {
            *self.next_line_of.borrow_mut() =
                Some((id, Some((info.file.clone(), info.line)), self.step.get()));
        }
        // A stop may have changed the world (the user's edits): only
        // script lines count as writers.
        if self.watching_data() {
            self.check_data(true);
        }
        self.refresh();
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `true`, `false` and numbers; anything else fails.
    struct Fake;

    impl FrameAccess for Fake {
        fn evaluate(&mut self, _: usize, code: &str) -> Result<Variable, String> {
            match code {
                "true" | "false" => Ok(Variable {
                    value: code.into(),
                    truthy: code == "true",
                    ..Variable::default()
                }),
                n if n.parse::<f64>().is_ok() => Ok(Variable {
                    value: n.into(),
                    truthy: true,
                    ..Variable::default()
                }),
                other => Err(format!("cannot evaluate {other}")),
            }
        }
        fn children(&mut self, _: usize, _: &str) -> Result<Vec<Variable>, String> {
            Ok(Vec::new())
        }
        fn locals(&mut self, _: usize) -> Result<Vec<Variable>, String> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn breakpoints_and_steps() {
        let d = Debugger::default();
        assert!(!d.is_active());
        d.set_breakpoint("scripts/a.lua", 3, true);
        assert!(d.is_active());
        d.begin_call(None, || "system 's'".into());
        assert_eq!(
            d.should_break("scripts/a.lua", 3, || 1),
            Some(("breakpoint", 1))
        );
        assert_eq!(d.should_break("scripts/a.lua", 4, || 1), None);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = Rc::clone(&seen);
        d.set_handler(Some(Box::new(
            move |info: &BreakInfo, _: &mut dyn FrameAccess| {
                log.borrow_mut().push((info.line, info.context.clone()));
                DebugAction::StepOver
            },
        )));
        assert_eq!(
            d.hit(
                "scripts/a.lua".into(),
                3,
                2,
                Vec::new,
                "breakpoint",
                &mut Fake
            ),
            DebugAction::StepOver
        );
        assert_eq!(seen.borrow()[0], (3, "system 's'".to_string()));
        // Stepping over: deeper lines run on, the same depth stops.
        assert_eq!(d.should_break("scripts/b.lua", 9, || 3), None);
        assert_eq!(d.should_break("scripts/a.lua", 4, || 2), Some(("step", 2)));
        // A new call ends the step.
        d.end_call();
        d.begin_call(None, || "system 's'".into());
        assert_eq!(d.should_break("scripts/a.lua", 4, || 2), None);
        d.set_breakpoint("scripts/a.lua", 3, false);
        assert!(!d.is_active());
    }

    /// Whether reaching line 1 stopped (the handler counts stops).
    fn stops(d: &Debugger, count: &Cell<u32>) -> bool {
        let before = count.get();
        d.hit("a.lua".into(), 1, 1, Vec::new, "breakpoint", &mut Fake);
        count.get() > before
    }

    fn spec(condition: Option<&str>, hit: Option<&str>, log: Option<&str>) -> BreakpointSpec {
        BreakpointSpec {
            enabled: true,
            condition: condition.map(Into::into),
            hit_count: hit.map(Into::into),
            log_message: log.map(Into::into),
        }
    }

    #[test]
    fn conditions_hit_counts_and_logpoints() {
        let d = Debugger::default();
        let count = Rc::new(Cell::new(0));
        let counter = Rc::clone(&count);
        d.set_handler(Some(Box::new(
            move |_: &BreakInfo, _: &mut dyn FrameAccess| {
                counter.set(counter.get() + 1);
                DebugAction::Continue
            },
        )));
        let stops = |d: &Debugger| stops(d, &count);
        d.set_breakpoint_spec("a.lua", 1, spec(Some("false"), None, None))
            .unwrap();
        assert!(!stops(&d));
        d.set_breakpoint_spec("a.lua", 1, spec(Some("true"), None, None))
            .unwrap();
        assert!(stops(&d));
        // A broken condition stops, and says why.
        d.set_breakpoint_spec("a.lua", 1, spec(Some("nope"), None, None))
            .unwrap();
        assert!(stops(&d));
        assert!(
            d.breakpoint_list()[0]
                .error
                .as_deref()
                .unwrap()
                .contains("nope")
        );
        d.set_breakpoint_spec("a.lua", 1, spec(None, Some("% 3"), None))
            .unwrap();
        let pattern: Vec<bool> = (0..6).map(|_| stops(&d)).collect();
        assert_eq!(pattern, [false, false, true, false, false, true]);
        d.set_breakpoint_spec("a.lua", 1, spec(None, Some(">= 2"), None))
            .unwrap();
        assert_eq!(
            (0..3).map(|_| stops(&d)).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert!(
            d.set_breakpoint_spec("a.lua", 1, spec(None, Some("lots"), None))
                .is_err()
        );
        // A logpoint writes and runs on.
        d.set_breakpoint_spec("a.lua", 1, spec(None, None, Some("x is {42}, {oops}")))
            .unwrap();
        assert!(!stops(&d));
        let out = d.take_output();
        assert!(matches!(&out[0], DebugOutput::Log { message, line: 1, .. }
            if message.starts_with("x is 42, {error: cannot evaluate oops")));
        // Off: never stops, kept.
        let mut off = spec(None, None, None);
        off.enabled = false;
        d.set_breakpoint_spec("a.lua", 1, off).unwrap();
        assert!(d.should_break("a.lua", 1, || 1).is_none());
        assert_eq!(d.breakpoint_list().len(), 1);
    }

    #[test]
    fn hit_counts_parse() {
        assert_eq!(HitCondition::parse("5"), Ok(HitCondition::Equal(5)));
        assert_eq!(HitCondition::parse(">= 5"), Ok(HitCondition::AtLeast(5)));
        assert_eq!(HitCondition::parse("%2"), Ok(HitCondition::Every(2)));
        assert!(HitCondition::parse("% 0").is_err());
        assert!(
            HitCondition::parse("five")
                .unwrap_err()
                .to_string()
                .contains("five")
        );
    }

    #[test]
    fn data_breakpoints_parse() {
        let d = DataBreakpoint::parse("Health.hp < 0", None).unwrap();
        assert_eq!(d.condition, DataCondition::Compare(CompareOp::Below, 0.0));
        assert_eq!(d.describe(), "Health.hp < 0");
        let d = DataBreakpoint::parse("Position.x changes", Some(3)).unwrap();
        assert_eq!(d.describe(), "Position.x of entity 3 changes");
        assert!(DataBreakpoint::parse("hp < x", None).is_err());
        assert!(DataBreakpoint::parse("Health < 0", None).is_err());
    }

    #[test]
    fn names_from_the_defining_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.lua"),
            "local function patrol(id)\nfunction M.step(x)\nlocal go = function()\nlocal t = { f = function() end }\necs.system('s', function(dt)\n",
        )
        .unwrap();
        let name = |line| name_from_source(dir.path(), "a.lua", line);
        assert_eq!(name(1).as_deref(), Some("patrol"));
        assert_eq!(name(2).as_deref(), Some("M.step"));
        assert_eq!(name(3).as_deref(), Some("go"));
        assert_eq!(name(4).as_deref(), Some("f"));
        assert_eq!(name(5).as_deref(), Some("s"), "named as registered");
        assert_eq!(name(9), None);
        // Never a file outside the project, whatever a chunk is named.
        let outside = dir.path().join("outside.lua");
        std::fs::write(&outside, "local function secret(x)\n").unwrap();
        let inner = dir.path().join("project");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(name_from_source(&inner, outside.to_str().unwrap(), 1), None);
        assert_eq!(name_from_source(&inner, "../outside.lua", 1), None);
        assert_eq!(
            name_from_source(dir.path(), "outside.lua", 1).as_deref(),
            Some("secret")
        );
    }

    #[test]
    fn frames_get_names() {
        let mut frames = vec![
            StackFrame {
                function: "?".into(),
                ..StackFrame::default()
            },
            StackFrame {
                function: "function <a.lua:3>".into(),
                ..StackFrame::default()
            },
        ];
        name_frames(&mut frames, "coroutine 'patrol'");
        assert_eq!(frames[0].function, "anonymous function");
        assert_eq!(frames[1].function, "patrol");
    }
}
