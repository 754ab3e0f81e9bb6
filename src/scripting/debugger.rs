//! The script debugger, language-neutral: breakpoints by file and line,
//! stepping, and the handler that decides what happens at a break.
//!
//! Each language installs a line hook only while [`Debugger::is_active`]
//! (a breakpoint exists or a step is in progress), so a project without
//! breakpoints runs at full speed. When the hook reaches a breakpoint it
//! calls [`Debugger::hit`] on the script's own thread, which blocks in the
//! driver's handler (the GUI session) until the user continues or steps.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::StackFrame;

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

/// Where the script stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakInfo {
    /// Project-relative file.
    pub file: String,
    /// 1-based line, not yet run.
    pub line: u32,
    /// The call stack, innermost first, with locals.
    pub frames: Vec<StackFrame>,
    /// The coroutine being resumed, if it is one.
    pub coroutine: Option<u64>,
    /// What was running: `system 'move'`, `coroutine 'patrol'`...
    pub context: String,
    /// Why it stopped: `breakpoint` or `step`.
    pub reason: &'static str,
}

/// Decides what to do at a break (blocks until the user chooses).
pub type BreakHandler = Box<dyn FnMut(&BreakInfo) -> DebugAction>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    None,
    Over { call: u64, depth: u32 },
    Into { call: u64 },
    Out { call: u64, depth: u32 },
}

/// Breakpoints, the stepping state and the break handler of one runtime.
pub struct Debugger {
    breakpoints: RefCell<BTreeMap<String, BTreeSet<u32>>>,
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
    last_line: RefCell<(u64, u64, u32)>,
}

impl Default for Debugger {
    fn default() -> Self {
        Debugger {
            breakpoints: RefCell::default(),
            step: Cell::new(Step::None),
            handler: RefCell::default(),
            call: Cell::new(0),
            coroutine: Cell::new(None),
            context: RefCell::default(),
            breaking: Cell::new(false),
            run_to: RefCell::default(),
            last_line: RefCell::default(),
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

impl Debugger {
    /// True while a hook must run: a breakpoint exists or a step is on.
    pub fn is_active(&self) -> bool {
        self.step.get() != Step::None
            || !self.breakpoints.borrow().is_empty()
            || self.run_to.borrow().is_some()
    }

    /// Run to cursor: stop once when `file:line` is reached (or not, with
    /// `None`). Any other stop first gives it up.
    pub fn set_run_to(&self, target: Option<(String, u32)>) {
        *self.run_to.borrow_mut() = target;
    }

    /// Sets or clears a breakpoint. A line without code never stops (the
    /// languages report lines only where code starts).
    pub fn set_breakpoint(&self, file: &str, line: u32, on: bool) {
        let mut all = self.breakpoints.borrow_mut();
        if on {
            all.entry(file.to_string()).or_default().insert(line);
        } else if let Some(lines) = all.get_mut(file) {
            lines.remove(&line);
            if lines.is_empty() {
                all.remove(file);
            }
        }
    }

    /// Removes every breakpoint.
    pub fn clear_breakpoints(&self) {
        self.breakpoints.borrow_mut().clear();
    }

    /// Every breakpoint, by file.
    pub fn breakpoints(&self) -> BTreeMap<String, BTreeSet<u32>> {
        self.breakpoints.borrow().clone()
    }

    /// True when `file` has a breakpoint (hooks may skip other files fast).
    pub fn has_breakpoint(&self, file: &str, line: u32) -> bool {
        self.breakpoints
            .borrow()
            .get(file)
            .is_some_and(|lines| lines.contains(&line))
    }

    /// Installs the driver's handler; without one, breaks continue at once.
    pub fn set_handler(&self, handler: Option<BreakHandler>) {
        *self.handler.borrow_mut() = handler;
    }

    /// Marks the start of a script call; `coroutine` is the coroutine being
    /// resumed, `context` what runs (for the break view).
    pub fn begin_call(&self, coroutine: Option<u64>, context: impl FnOnce() -> String) {
        self.call.set(self.call.get() + 1);
        self.coroutine.set(coroutine);
        if self.is_active() {
            *self.context.borrow_mut() = context();
        }
    }

    /// Marks the end of a script call: a step still in progress ends here
    /// (the world stays paused between frames).
    pub fn end_call(&self) {
        self.step.set(Step::None);
        self.coroutine.set(None);
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
        let call = self.call.get();
        let file_hash = hash(file);
        {
            let mut last = self.last_line.borrow_mut();
            if *last == (call, file_hash, line) {
                return None;
            }
            *last = (call, file_hash, line);
        }
        let step_depth = match self.step.get() {
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

    /// Stops at a line: asks the handler and arms the chosen step. `depth`
    /// is the stack depth of the stopped line.
    pub fn hit(
        &self,
        file: String,
        line: u32,
        depth: u32,
        frames: Vec<StackFrame>,
        reason: &'static str,
    ) -> DebugAction {
        let info = BreakInfo {
            file,
            line,
            frames,
            coroutine: self.coroutine.get(),
            context: self.context.borrow().clone(),
            reason,
        };
        self.breaking.set(true);
        self.run_to.borrow_mut().take();
        let stopped = std::time::Instant::now();
        let action = match self.handler.borrow_mut().as_mut() {
            Some(handler) => handler(&info),
            None => DebugAction::Continue,
        };
        // Waiting for the user is not time the scripts spent.
        crate::profiling::stopped::add(stopped.elapsed());
        self.breaking.set(false);
        let call = self.call.get();
        self.step.set(match action {
            DebugAction::Continue => Step::None,
            DebugAction::StepOver => Step::Over { call, depth },
            DebugAction::StepInto => Step::Into { call },
            DebugAction::StepOut => Step::Out { call, depth },
        });
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        d.set_handler(Some(Box::new(move |info: &BreakInfo| {
            log.borrow_mut().push((info.line, info.context.clone()));
            DebugAction::StepOver
        })));
        assert_eq!(
            d.hit("scripts/a.lua".into(), 3, 2, vec![], "breakpoint"),
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
}
