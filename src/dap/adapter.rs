//! One debug client's conversation: DAP requests become
//! [`SessionCommand`]s, and the session's events become DAP responses and
//! events. The session's debugger is the GUI's: stops, steps, conditions,
//! values and coroutines behave the same from an editor.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use serde_json::{Value, json};

use super::wire;
use crate::project::Project;
use crate::runtime::session::{
    Session, SessionCommand, SessionEvent, SessionLink, SessionOptions, Snapshot,
};
use crate::runtime::{CoroutineStatus, EventKind, RuntimeCommand, RuntimeEvent};
use crate::scripting::debugger::{BreakInfo, BreakpointSpec, DebugAction, Variable};

/// What reaches the adapter's loop: the client's messages and the
/// session's events, in the order they came.
#[derive(Debug)]
pub enum Input {
    /// From the client.
    Client(wire::Incoming),
    /// From the session.
    Session(SessionEvent),
    /// The session's event stream ended (the session is gone).
    SessionGone,
}

/// How the conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client disconnected, or its stream closed.
    Disconnected,
    /// The client asked to end the run (`terminate`, or `disconnect` with
    /// `terminateDebuggee`).
    Terminate,
}

/// The session the adapter drives.
enum Port {
    /// None yet: `launch` starts one.
    None,
    /// Started by `launch`; ends with the adapter.
    Own(Box<Session>),
    /// Someone else's (`ecscope run --dap`, the GUI); the adapter leaves it
    /// running as it found it.
    Link(Box<SessionLink>),
}

impl Port {
    fn send(&self, command: SessionCommand) {
        match self {
            Port::None => {}
            Port::Own(session) => session.send(command),
            Port::Link(link) => link.send(command),
        }
    }

    fn snapshot(&self) -> Option<Arc<Snapshot>> {
        match self {
            Port::None => None,
            Port::Own(session) => session.snapshot(),
            Port::Link(link) => link.snapshot(),
        }
    }

    fn project(&self) -> Option<&Project> {
        match self {
            Port::None => None,
            Port::Own(session) => Some(session.project()),
            Port::Link(link) => Some(link.project()),
        }
    }
}

/// Where the world is, as the client sees it.
#[derive(Debug, Clone)]
enum Stop {
    /// Frames run (or the run has not begun).
    Running,
    /// A script is stopped at a line.
    AtLine(Arc<BreakInfo>),
    /// The world rests between frames (entry, a pause that met no line).
    BetweenFrames,
}

/// A request waiting for the session's answer.
#[derive(Debug)]
enum Pending {
    Variables { seq: i64, reference: i64 },
    Evaluate { seq: i64, frame: usize },
    SetVariable { seq: i64, frame: usize },
}

/// What a variables reference stands for, at the current stop.
#[derive(Debug, Clone, PartialEq)]
struct Handle {
    frame: usize,
    /// `None`: the frame's locals; otherwise the value whose children.
    expr: Option<String>,
}

/// `launch`'s arguments (SCRIPT_API §6).
#[derive(Debug, Clone)]
struct Launch {
    project: Project,
    frames: Option<u64>,
    stop_on_entry: bool,
    realtime: bool,
}

/// Frame ids of suspended coroutines start here (the stopped stack's are
/// 1, 2, 3...).
const SUSPENDED_FRAME: i64 = 1 << 40;

/// The thread of the world's own calls (systems, handlers, loading).
const MAIN_THREAD: i64 = 1;

/// A coroutine's thread id.
fn thread_of(coroutine: u64) -> i64 {
    coroutine as i64 + 1
}

/// One client's conversation with a session.
pub struct Adapter {
    out: Box<dyn Write + Send>,
    seq: i64,
    port: Port,
    /// Attached to a session someone else runs.
    attached: bool,
    initialized: bool,
    lines_from_1: bool,
    launch: Option<Launch>,
    configuration_done: bool,
    started: bool,
    /// The client's breakpoints by absolute path, kept to set them once
    /// the session starts and to take them away when the client leaves.
    breakpoints: BTreeMap<PathBuf, Vec<Value>>,
    /// Lines set in the session, by project file.
    set_lines: BTreeMap<String, BTreeSet<u32>>,
    break_on_error: bool,
    /// The session's settings before the client came (attached only).
    restore_break_on_error: Option<bool>,
    stop: Stop,
    handles: Vec<Handle>,
    /// The children last listed per reference: name → expression (for
    /// setVariable on a field).
    names: HashMap<(i64, String), String>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    /// The client asked to continue or step: the `Resumed` that follows
    /// needs no `continued` event.
    resuming: bool,
    next_breakpoint_id: i64,
    ended: bool,
    errors: u64,
    /// Live coroutines by id, with their names: from the thread events
    /// (a snapshot may be older than a stop).
    coroutines: BTreeMap<u64, String>,
    /// Breakpoints someone else set (the window), as told to the client,
    /// with the ids given them.
    others: BTreeMap<(String, u32), i64>,
    /// Feeds the session's events into the adapter's input.
    inputs: Sender<Input>,
}

impl Adapter {
    /// An adapter that starts its own session on `launch` (`ecscope dap`).
    pub fn standalone(out: Box<dyn Write + Send>, inputs: Sender<Input>) -> Adapter {
        Adapter::new(out, Port::None, false, inputs)
    }

    /// An adapter on a session that runs already (`ecscope run --dap`,
    /// the GUI): `launch` and `attach` both attach to it.
    pub fn attached(
        out: Box<dyn Write + Send>,
        mut link: SessionLink,
        inputs: Sender<Input>,
    ) -> Adapter {
        forward(
            std::mem::replace(&mut link.events, std::sync::mpsc::channel().1),
            &inputs,
        );
        Adapter::new(out, Port::Link(Box::new(link)), true, inputs)
    }

    fn new(
        out: Box<dyn Write + Send>,
        port: Port,
        attached: bool,
        inputs: Sender<Input>,
    ) -> Adapter {
        Adapter {
            out,
            seq: 0,
            port,
            attached,
            initialized: false,
            lines_from_1: true,
            launch: None,
            configuration_done: false,
            started: false,
            breakpoints: BTreeMap::new(),
            set_lines: BTreeMap::new(),
            break_on_error: true,
            restore_break_on_error: None,
            stop: Stop::Running,
            handles: Vec::new(),
            names: HashMap::new(),
            pending: HashMap::new(),
            next_id: 0,
            resuming: false,
            next_breakpoint_id: 0,
            ended: false,
            errors: 0,
            coroutines: BTreeMap::new(),
            others: BTreeMap::new(),
            inputs,
        }
    }

    /// Serves the client until it leaves; returns how it left.
    pub fn run(mut self, inputs: Receiver<Input>) -> Ended {
        let mut how = Ended::Disconnected;
        for input in inputs {
            let done = match input {
                Input::Client(wire::Incoming::Message(message)) => self.message(message),
                Input::Client(wire::Incoming::Bad(problem)) => {
                    self.error_response(0, "", &format!("bad message: {problem}"));
                    None
                }
                Input::Client(wire::Incoming::Closed) => Some(Ended::Disconnected),
                Input::Session(event) => {
                    self.session_event(event);
                    None
                }
                Input::SessionGone => {
                    self.session_gone();
                    None
                }
            };
            if let Some(done) = done {
                how = done;
                break;
            }
        }
        self.leave();
        how
    }

    /// Hands the session back as the client found it: its breakpoints
    /// gone, the stopped script running on.
    fn leave(&mut self) {
        if !self.attached {
            // An own session ends with the adapter (dropping it resumes
            // and stops the world).
            self.port = Port::None;
            return;
        }
        for (file, lines) in std::mem::take(&mut self.set_lines) {
            for line in lines {
                self.port
                    .send(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                        file: file.clone(),
                        line,
                        on: false,
                    }));
            }
        }
        if let Some(on) = self.restore_break_on_error.take() {
            self.port
                .send(SessionCommand::Runtime(RuntimeCommand::SetBreakOnError(on)));
        }
        self.port.send(SessionCommand::StepAcrossCalls(false));
        match self.stop {
            Stop::AtLine(_) => self.port.send(SessionCommand::Debug(DebugAction::Continue)),
            Stop::BetweenFrames => self.port.send(SessionCommand::Play),
            Stop::Running => {}
        }
    }

    // ---- output ----

    fn send(&mut self, mut message: Value) {
        self.seq += 1;
        message["seq"] = json!(self.seq);
        // A client that went away is seen by the reader.
        let _ = wire::write(&mut *self.out, &message);
    }

    fn respond(&mut self, request_seq: i64, command: &str, body: Value) {
        self.send(json!({
            "type": "response", "request_seq": request_seq, "success": true,
            "command": command, "body": body,
        }));
    }

    fn error_response(&mut self, request_seq: i64, command: &str, message: &str) {
        self.send(json!({
            "type": "response", "request_seq": request_seq, "success": false,
            "command": command, "message": message,
            "body": {"error": {"id": 1, "format": message,
                               "showUser": matches!(command, "launch" | "attach")}},
        }));
    }

    fn event(&mut self, event: &str, body: Value) {
        self.send(json!({"type": "event", "event": event, "body": body}));
    }

    fn output(&mut self, category: &str, text: String, place: Option<(&str, u32)>) {
        let mut body = json!({"category": category, "output": text + "\n"});
        if let Some((file, line)) = place {
            body["source"] = self.source(file);
            body["line"] = json!(self.line_out(line));
        }
        self.event("output", body);
    }

    // ---- requests ----

    fn message(&mut self, message: Value) -> Option<Ended> {
        let seq = message["seq"].as_i64().unwrap_or(0);
        if message["type"] != "request" {
            // Responses to reverse requests are not expected: none are sent.
            self.error_response(seq, "", "expected a request (\"type\": \"request\")");
            return None;
        }
        let Some(command) = message["command"].as_str().map(str::to_string) else {
            self.error_response(seq, "", "the request has no command");
            return None;
        };
        let args = message.get("arguments").cloned().unwrap_or(json!({}));
        if !self.initialized && command != "initialize" {
            self.error_response(
                seq,
                &command,
                &format!("'{command}' before 'initialize': the first request must be 'initialize'"),
            );
            return None;
        }
        let result = match command.as_str() {
            "initialize" => self.initialize(seq, &args),
            "launch" => self.launch(seq, &args),
            "attach" => self.attach(seq, "attach", &args),
            "setBreakpoints" => self.set_breakpoints(seq, &args),
            "setExceptionBreakpoints" => self.set_exception_breakpoints(seq, &args),
            "configurationDone" => self.configuration_done(seq),
            "threads" => self.threads(seq),
            "stackTrace" => self.stack_trace(seq, &args),
            "scopes" => self.scopes(seq, &args),
            "variables" => self.variables(seq, &args),
            "evaluate" => self.evaluate(seq, &args),
            "setVariable" => self.set_variable(seq, &args),
            "continue" => self.resume(seq, "continue", None),
            "next" => self.resume(seq, "next", Some(DebugAction::StepOver)),
            "stepIn" => self.resume(seq, "stepIn", Some(DebugAction::StepInto)),
            "stepOut" => self.resume(seq, "stepOut", Some(DebugAction::StepOut)),
            "pause" => self.pause(seq),
            "terminate" => {
                self.respond(seq, "terminate", json!({}));
                if self.attached {
                    self.finish(None);
                    return Some(Ended::Terminate);
                }
                // The launched run ends now: its session stops (a stopped
                // script runs on to the end of its call first).
                if let Port::Own(_) = self.port {
                    self.port = Port::None;
                    self.running();
                }
                self.finish(Some(i64::from(self.errors > 0)));
                Ok(())
            }
            "disconnect" => {
                self.respond(seq, "disconnect", json!({}));
                let terminate = args["terminateDebuggee"].as_bool() == Some(true);
                return Some(if terminate && self.attached {
                    Ended::Terminate
                } else {
                    Ended::Disconnected
                });
            }
            other => Err(format!("'{other}' is not a request ECScope knows")),
        };
        if let Err(message) = result {
            self.error_response(seq, &command, &message);
        }
        None
    }

    fn initialize(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        if self.initialized {
            return Err("'initialize' was already received".into());
        }
        self.initialized = true;
        self.lines_from_1 = args["linesStartAt1"].as_bool().unwrap_or(true);
        self.respond(seq, "initialize", capabilities());
        self.event("initialized", json!({}));
        Ok(())
    }

    fn launch(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        if self.attached {
            return self.attach(seq, "launch", args);
        }
        if self.launch.is_some() {
            return Err("the project is already launched".into());
        }
        let Some(dir) = args["project"].as_str() else {
            return Err(
                "launch needs \"project\": the project folder (with an ecscope.toml)".into(),
            );
        };
        let mut project = Project::open(Path::new(dir)).map_err(|e| e.to_string())?;
        if args["restricted"].as_bool() == Some(true) {
            project = project.restricted();
        }
        let frames =
            match &args["frames"] {
                Value::Null => None,
                v => Some(v.as_u64().ok_or_else(|| {
                    format!("\"frames\" must be a whole number of frames, not {v}")
                })?),
            };
        self.launch = Some(Launch {
            project,
            frames,
            stop_on_entry: args["stopOnEntry"].as_bool().unwrap_or(false),
            realtime: args["realtime"].as_bool().unwrap_or(false),
        });
        self.respond(seq, "launch", json!({}));
        self.start_if_ready();
        Ok(())
    }

    fn attach(&mut self, seq: i64, command: &str, args: &Value) -> Result<(), String> {
        if !self.attached {
            return Err("nothing to attach to: use \"launch\" with `ecscope dap`, or \"attach\" to `ecscope run DIR --dap ADDR` or the GUI's Debug › Listen for an editor…".into());
        }
        if let (Some(dir), Some(project)) = (args["project"].as_str(), self.port.project()) {
            let asked = Path::new(dir).canonicalize().unwrap_or_else(|_| dir.into());
            if asked != project.root {
                return Err(format!(
                    "this ECScope runs {}, not {dir}",
                    project.root.display()
                ));
            }
        }
        if self.started {
            return Err("already attached".into());
        }
        self.started = true;
        let snapshot = self.port.snapshot();
        self.restore_break_on_error = snapshot.as_ref().map(|s| s.debug.break_on_error);
        // Coroutines started before the client came.
        for c in snapshot.iter().flat_map(|s| s.coroutines.iter()) {
            if matches!(c.status, CoroutineStatus::Waiting | CoroutineStatus::Paused) {
                self.coroutines
                    .entry(c.id)
                    .or_insert_with(|| c.name.clone());
            }
        }
        self.port.send(SessionCommand::StepAcrossCalls(true));
        self.port
            .send(SessionCommand::Runtime(RuntimeCommand::SetBreakOnError(
                self.break_on_error,
            )));
        self.respond(seq, command, json!({}));
        let paths: Vec<PathBuf> = self.breakpoints.keys().cloned().collect();
        for path in paths {
            self.apply_breakpoints(&path);
        }
        // The window's breakpoints show in the editor too.
        if let Some(s) = &snapshot {
            let list = Arc::clone(&s.debug.breakpoints);
            self.others_changed(&list);
        }
        // Joining a world stopped already: the client learns it at once.
        if let Some(info) = snapshot.and_then(|s| s.at_break.clone()) {
            self.stopped(Arc::new(info));
        } else if args["stopOnEntry"].as_bool() == Some(true) {
            self.port.send(SessionCommand::StopAtNextLine("pause"));
        }
        Ok(())
    }

    /// Starts the launched session once the client has said both what to
    /// run and that its breakpoints are set.
    fn start_if_ready(&mut self) {
        if self.started || !self.configuration_done {
            return;
        }
        let Some(launch) = self.launch.clone() else {
            return;
        };
        self.started = true;
        let root = launch.project.root.clone();
        let mut breakpoints = Vec::new();
        let paths: Vec<PathBuf> = self.breakpoints.keys().cloned().collect();
        for path in &paths {
            if let Some(file) = relative(&root, path) {
                for (line, spec) in self.specs(path) {
                    breakpoints.push((file.clone(), line, spec));
                    self.set_lines.entry(file.clone()).or_default().insert(line);
                }
            }
        }
        let options = SessionOptions {
            playing: !launch.stop_on_entry,
            paced: launch.realtime,
            frame_limit: launch.frames,
            saved_breakpoints: false,
            breakpoints,
            break_on_error: self.break_on_error,
            step_across_calls: true,
        };
        let mut session = Session::start_with(launch.project, options, Arc::new(|| {}));
        forward(session.take_events(), &self.inputs);
        self.port = Port::Own(Box::new(session));
        if launch.stop_on_entry {
            self.stop = Stop::BetweenFrames;
            self.event(
                "stopped",
                json!({"reason": "entry", "threadId": MAIN_THREAD, "allThreadsStopped": true}),
            );
        }
    }

    /// The client's breakpoints for a file as the debugger takes them.
    fn specs(&self, path: &Path) -> Vec<(u32, BreakpointSpec)> {
        let text = |v: &Value| v.as_str().map(str::to_string);
        self.breakpoints
            .get(path)
            .into_iter()
            .flatten()
            .filter_map(|b| {
                let line = self.line_in(b["line"].as_i64()?)?;
                Some((
                    line,
                    BreakpointSpec {
                        enabled: true,
                        condition: text(&b["condition"]),
                        hit_count: text(&b["hitCondition"]),
                        log_message: text(&b["logMessage"]),
                    },
                ))
            })
            .collect()
    }

    fn set_breakpoints(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let Some(path) = args["source"]["path"].as_str() else {
            return Err("setBreakpoints needs source.path: the script's absolute path".into());
        };
        let path = PathBuf::from(path);
        let mut list: Vec<Value> = match args["breakpoints"].as_array() {
            Some(list) => list.clone(),
            // The older form: lines only.
            None => args["lines"]
                .as_array()
                .map(|lines| lines.iter().map(|l| json!({"line": l})).collect())
                .unwrap_or_default(),
        };
        list.retain(|b| b["line"].is_i64());
        self.breakpoints.insert(path.clone(), list.clone());
        let root = self
            .port
            .project()
            .or(self.launch.as_ref().map(|l| &l.project))
            .map(|p| p.root.clone());
        let problem = match &root {
            None => None,
            Some(root) => match relative(root, &path) {
                None => Some(format!(
                    "{} is not a file of the project {} (sources are absolute paths)",
                    path.display(),
                    root.display()
                )),
                Some(_) if !path.is_file() => Some(format!("{} does not exist", path.display())),
                Some(_) => None,
            },
        };
        // Lines past the end of the file never run.
        let lines_in_file = std::fs::read_to_string(&path)
            .map(|text| text.lines().count() as i64)
            .ok();
        let mut answers = Vec::new();
        for b in &list {
            self.next_breakpoint_id += 1;
            let mut answer = json!({
                "id": self.next_breakpoint_id, "verified": problem.is_none(),
                "line": b["line"], "source": {"path": path.display().to_string()},
            });
            let hit = b["hitCondition"].as_str().filter(|h| !h.trim().is_empty());
            let line = b["line"].as_i64().and_then(|l| self.line_in(l));
            if let Some(Err(e)) = hit.map(crate::scripting::debugger::HitCondition::parse) {
                answer["verified"] = json!(false);
                answer["message"] = json!(e.to_string());
            } else if let (Some(line), Some(count), None) = (line, lines_in_file, &problem)
                && i64::from(line) > count
            {
                answer["verified"] = json!(false);
                answer["message"] = json!(format!(
                    "line {line} is past the end of the file ({count} lines)"
                ));
            } else if let Some(problem) = &problem {
                answer["message"] = json!(problem);
            }
            answers.push(answer);
        }
        self.respond(seq, "setBreakpoints", json!({"breakpoints": answers}));
        if self.started {
            self.apply_breakpoints(&path);
        }
        Ok(())
    }

    /// Makes the session's breakpoints in a file the client's.
    fn apply_breakpoints(&mut self, path: &Path) {
        let Some(root) = self.port.project().map(|p| p.root.clone()) else {
            return;
        };
        let Some(file) = relative(&root, path) else {
            return;
        };
        let specs = self.specs(path);
        let lines: BTreeSet<u32> = specs.iter().map(|(l, _)| *l).collect();
        let before = self.set_lines.remove(&file).unwrap_or_default();
        for line in before.difference(&lines) {
            self.port
                .send(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                    file: file.clone(),
                    line: *line,
                    on: false,
                }));
        }
        for (line, spec) in specs {
            self.port
                .send(SessionCommand::Runtime(RuntimeCommand::SetBreakpointSpec {
                    file: file.clone(),
                    line,
                    spec,
                }));
        }
        if !lines.is_empty() {
            self.set_lines.insert(file, lines);
        }
    }

    fn set_exception_breakpoints(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let filters = args["filters"].as_array().cloned().unwrap_or_default();
        if let Some(unknown) = filters.iter().find(|f| f.as_str() != Some("uncaught")) {
            return Err(format!(
                "unknown exception filter {unknown}: ECScope has 'uncaught'"
            ));
        }
        self.break_on_error = !filters.is_empty();
        if self.started {
            self.port
                .send(SessionCommand::Runtime(RuntimeCommand::SetBreakOnError(
                    self.break_on_error,
                )));
        }
        self.respond(seq, "setExceptionBreakpoints", json!({}));
        Ok(())
    }

    fn configuration_done(&mut self, seq: i64) -> Result<(), String> {
        self.configuration_done = true;
        self.respond(seq, "configurationDone", json!({}));
        self.start_if_ready();
        Ok(())
    }

    fn threads(&mut self, seq: i64) -> Result<(), String> {
        let mut threads = vec![json!({"id": MAIN_THREAD, "name": "main"})];
        for (id, name) in &self.coroutines {
            threads.push(json!({"id": thread_of(*id), "name": name}));
        }
        self.respond(seq, "threads", json!({"threads": threads}));
        Ok(())
    }

    fn stopped_thread(&self) -> Option<i64> {
        match &self.stop {
            Stop::AtLine(info) => Some(info.coroutine.map_or(MAIN_THREAD, thread_of)),
            _ => None,
        }
    }

    fn stack_trace(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let thread = args["threadId"].as_i64().unwrap_or(MAIN_THREAD);
        let mut frames = Vec::new();
        if let (Some(stopped), Stop::AtLine(info)) = (self.stopped_thread(), &self.stop) {
            if stopped == thread {
                let info = Arc::clone(info);
                for (i, f) in info.frames.iter().enumerate() {
                    frames.push(self.frame(i as i64 + 1, &f.function, &f.file, f.line));
                }
                if frames.is_empty() {
                    frames.push(self.frame(1, &info.context, &info.file, info.line));
                }
            }
        }
        // A suspended coroutine shows where it waits.
        if thread != MAIN_THREAD && frames.is_empty() {
            let snapshot = self.port.snapshot();
            let coroutine = snapshot.as_ref().and_then(|s| {
                s.coroutines
                    .iter()
                    .find(|c| thread_of(c.id) == thread)
                    .cloned()
            });
            if let Some(c) = coroutine {
                let label = format!("{} ({})", c.name, c.state);
                match &c.location {
                    Some((file, line)) => frames.push(self.frame(SUSPENDED_FRAME + thread, &label, file, *line)),
                    None => frames.push(json!({"id": SUSPENDED_FRAME + thread, "name": label, "line": 0, "column": 0})),
                }
            }
        }
        let total = frames.len();
        let start = args["startFrame"].as_u64().unwrap_or(0) as usize;
        let levels = args["levels"]
            .as_u64()
            .filter(|l| *l > 0)
            .unwrap_or(u64::MAX) as usize;
        let frames: Vec<Value> = frames.into_iter().skip(start).take(levels).collect();
        self.respond(
            seq,
            "stackTrace",
            json!({"stackFrames": frames, "totalFrames": total}),
        );
        Ok(())
    }

    fn frame(&self, id: i64, name: &str, file: &str, line: u32) -> Value {
        let name = if name.is_empty() { "(anonymous)" } else { name };
        json!({
            "id": id, "name": name, "source": self.source(file),
            "line": self.line_out(line), "column": self.line_out(1),
        })
    }

    /// The stopped stack's frame index of a frame id.
    fn stopped_frame(&self, id: i64) -> Result<usize, String> {
        match &self.stop {
            Stop::AtLine(info) if id >= 1 && (id as usize) <= info.frames.len().max(1) => {
                Ok(id as usize - 1)
            }
            Stop::AtLine(_) if id >= SUSPENDED_FRAME => Err(
                "a suspended coroutine's values are read only when it is the one stopped: step into it, or set a breakpoint in it".into(),
            ),
            Stop::AtLine(_) => Err(format!("no frame {id} in the stopped stack")),
            _ => Err("nothing is stopped: values are read at a breakpoint or a step".into()),
        }
    }

    fn scopes(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let id = args["frameId"].as_i64().unwrap_or(0);
        if id >= SUSPENDED_FRAME {
            self.respond(seq, "scopes", json!({"scopes": []}));
            return Ok(());
        }
        let frame = self.stopped_frame(id)?;
        let reference = self.handle(Handle { frame, expr: None });
        self.respond(
            seq,
            "scopes",
            json!({"scopes": [{
                "name": "Locals", "presentationHint": "locals",
                "variablesReference": reference, "expensive": false,
            }]}),
        );
        Ok(())
    }

    fn handle(&mut self, handle: Handle) -> i64 {
        if let Some(i) = self.handles.iter().position(|h| *h == handle) {
            return i as i64 + 1;
        }
        self.handles.push(handle);
        self.handles.len() as i64
    }

    fn lookup(&self, reference: i64) -> Result<Handle, String> {
        usize::try_from(reference - 1)
            .ok()
            .and_then(|i| self.handles.get(i))
            .cloned()
            .ok_or_else(|| format!("variables reference {reference} is not valid at this stop"))
    }

    fn ask(&mut self, pending: Pending) -> u64 {
        self.next_id += 1;
        self.pending.insert(self.next_id, pending);
        self.next_id
    }

    fn variables(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let reference = args["variablesReference"].as_i64().unwrap_or(0);
        let handle = self.lookup(reference)?;
        let id = self.ask(Pending::Variables { seq, reference });
        self.port.send(SessionCommand::Read {
            id,
            frame: handle.frame,
            expr: handle.expr,
        });
        Ok(())
    }

    fn evaluate(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let Some(code) = args["expression"].as_str() else {
            return Err("evaluate needs an expression".into());
        };
        let frame = match args["frameId"].as_i64() {
            Some(id) => self.stopped_frame(id)?,
            None => self.stopped_frame(1)?,
        };
        let id = self.ask(Pending::Evaluate { seq, frame });
        self.port.send(SessionCommand::Evaluate {
            id,
            frame,
            code: code.to_string(),
        });
        Ok(())
    }

    fn set_variable(&mut self, seq: i64, args: &Value) -> Result<(), String> {
        let reference = args["variablesReference"].as_i64().unwrap_or(0);
        let handle = self.lookup(reference)?;
        let (Some(name), Some(value)) = (args["name"].as_str(), args["value"].as_str()) else {
            return Err("setVariable needs a name and a value".into());
        };
        let target = match handle.expr {
            None => name.to_string(),
            Some(_) => self
                .names
                .get(&(reference, name.to_string()))
                .cloned()
                .ok_or_else(|| format!("'{name}' is not listed under this value"))?,
        };
        let id = self.ask(Pending::SetVariable {
            seq,
            frame: handle.frame,
        });
        self.port.send(SessionCommand::SetVariable {
            id: Some(id),
            frame: handle.frame,
            name: target,
            value: value.to_string(),
        });
        Ok(())
    }

    fn resume(&mut self, seq: i64, command: &str, step: Option<DebugAction>) -> Result<(), String> {
        if self.ended {
            return Err("the run has ended".into());
        }
        match (&self.stop, step) {
            (Stop::AtLine(_), action) => {
                self.resuming = true;
                self.port.send(SessionCommand::Debug(
                    action.unwrap_or(DebugAction::Continue),
                ));
            }
            (Stop::BetweenFrames, None) => {
                self.resuming = true;
                self.port.send(SessionCommand::Play);
            }
            // From between frames every step is "to the next line run".
            (Stop::BetweenFrames, Some(_)) => {
                self.port.send(SessionCommand::StopAtNextLine("step"))
            }
            (Stop::Running, None) => {}
            (Stop::Running, Some(_)) => return Err("nothing is stopped: pause first".into()),
        }
        self.running();
        let body = if step.is_none() {
            json!({"allThreadsContinued": true})
        } else {
            json!({})
        };
        self.respond(seq, command, body);
        Ok(())
    }

    fn pause(&mut self, seq: i64) -> Result<(), String> {
        if self.ended {
            return Err("the run has ended".into());
        }
        if matches!(self.stop, Stop::Running) && self.started {
            self.port.send(SessionCommand::StopAtNextLine("pause"));
        }
        self.respond(seq, "pause", json!({}));
        Ok(())
    }

    // ---- session events ----

    fn session_event(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Runtime(event) => self.runtime_event(event),
            SessionEvent::CommandFailed(message) => self.output("console", message, None),
            SessionEvent::Crashed(message) => {
                self.output(
                    "stderr",
                    format!("the runtime stopped after an internal error: {message}"),
                    None,
                );
                self.session_gone();
            }
            SessionEvent::Stopped(info) => self.stopped(info),
            SessionEvent::Resumed => {
                let asked = std::mem::take(&mut self.resuming);
                let thread = self.stopped_thread().unwrap_or(MAIN_THREAD);
                self.running();
                if !asked {
                    // Someone else (the GUI) went on.
                    self.event(
                        "continued",
                        json!({"threadId": thread, "allThreadsContinued": true}),
                    );
                }
            }
            SessionEvent::PausedBetweenFrames { reason } => {
                self.stop = Stop::BetweenFrames;
                self.event(
                    "stopped",
                    json!({"reason": reason, "threadId": MAIN_THREAD, "allThreadsStopped": true,
                           "description": "between frames"}),
                );
            }
            SessionEvent::Finished { frames } => {
                self.output(
                    "console",
                    format!("the run ended after {frames} frames"),
                    None,
                );
                self.finish(Some(i64::from(self.errors > 0)));
            }
            SessionEvent::Read { id, result } => self.answer_read(id, result),
            SessionEvent::BreakpointsChanged(list) => self.others_changed(&list),
            SessionEvent::Evaluated { id, result, .. } => self.answer_evaluate(id, result),
        }
    }

    fn runtime_event(&mut self, event: RuntimeEvent) {
        match event.kind {
            EventKind::Log {
                script,
                line,
                message,
            } => {
                self.output("stdout", message, Some((&script, line)));
            }
            EventKind::Logpoint {
                file,
                line,
                message,
            } => {
                self.output("console", message, Some((&file, line)));
            }
            EventKind::ScriptError(e) => {
                self.errors += 1;
                let file = e.file.clone().unwrap_or(e.script.clone());
                let mut text = format!("error in {}: {}", e.context, e.message);
                if !e.traceback.is_empty() {
                    text.push('\n');
                    text.push_str(e.traceback.trim_end());
                }
                self.output("stderr", text, Some((&file, e.line)));
            }
            EventKind::CoroutineStarted { id, name, .. } => {
                self.coroutines.insert(id, name);
                self.event(
                    "thread",
                    json!({"reason": "started", "threadId": thread_of(id)}),
                );
            }
            EventKind::CoroutineFinished { id, .. } => {
                self.coroutines.remove(&id);
                self.event(
                    "thread",
                    json!({"reason": "exited", "threadId": thread_of(id)}),
                );
            }
            EventKind::Reloaded { .. }
            | EventKind::RolledBack { .. }
            | EventKind::Notice { .. }
            | EventKind::LeakSuspected { .. }
            | EventKind::LeakLocated { .. }
            | EventKind::DataChanged { .. } => {
                let text = event_text(&event.kind, event.frame);
                self.output("console", text, None);
            }
            EventKind::ScriptLoaded { .. }
            | EventKind::Suggestion(_)
            | EventKind::ProfileStats { .. } => {}
        }
    }

    /// Tells the client of breakpoints set or removed by someone else
    /// (the window): `breakpoint` events, `new` and `removed`.
    fn others_changed(&mut self, list: &[crate::scripting::debugger::Breakpoint]) {
        let now: BTreeSet<(String, u32)> = list
            .iter()
            .filter(|b| {
                !self
                    .set_lines
                    .get(&b.file)
                    .is_some_and(|lines| lines.contains(&b.line))
            })
            .map(|b| (b.file.clone(), b.line))
            .collect();
        let gone: Vec<(String, u32)> = self
            .others
            .keys()
            .filter(|k| !now.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(id) = self.others.remove(&key) {
                let body =
                    json!({"reason": "removed", "breakpoint": {"id": id, "verified": false}});
                self.event("breakpoint", body);
            }
        }
        for (file, line) in now {
            if self.others.contains_key(&(file.clone(), line)) {
                continue;
            }
            self.next_breakpoint_id += 1;
            let id = self.next_breakpoint_id;
            let body = json!({"reason": "new", "breakpoint": {
                "id": id, "verified": true, "line": self.line_out(line), "source": self.source(&file),
            }});
            self.others.insert((file, line), id);
            self.event("breakpoint", body);
        }
    }

    fn stopped(&mut self, info: Arc<BreakInfo>) {
        let reason = match info.reason {
            "error" => "exception",
            "data" => "data breakpoint",
            "cursor" => "goto",
            "breakpoint" => "breakpoint",
            "pause" => "pause",
            _ => "step",
        };
        let thread = info.coroutine.map_or(MAIN_THREAD, thread_of);
        let mut body = json!({
            "reason": reason, "threadId": thread, "allThreadsStopped": true,
            "description": format!("{} at {}:{}", info.context, info.file, info.line),
        });
        if let Some(message) = &info.message {
            body["text"] = json!(message);
        }
        self.handles.clear();
        self.names.clear();
        self.stop = Stop::AtLine(info);
        self.event("stopped", body);
    }

    /// The world runs on: this stop's frames and references are gone.
    fn running(&mut self) {
        self.stop = Stop::Running;
        self.handles.clear();
        self.names.clear();
    }

    fn answer_read(&mut self, id: u64, result: Result<Vec<Variable>, String>) {
        let Some(Pending::Variables { seq, reference }) = self.pending.remove(&id) else {
            return;
        };
        let Ok(handle) = self.lookup(reference) else {
            self.error_response(seq, "variables", "the stop these values belong to is over");
            return;
        };
        match result {
            Err(e) => self.error_response(seq, "variables", &e),
            Ok(list) => {
                let mut variables = Vec::new();
                for v in list {
                    self.names
                        .insert((reference, v.name.clone()), v.expr.clone());
                    variables.push(self.variable(handle.frame, &v));
                }
                self.respond(seq, "variables", json!({"variables": variables}));
            }
        }
    }

    fn variable(&mut self, frame: usize, v: &Variable) -> Value {
        let reference = if v.expandable && !v.expr.is_empty() {
            self.handle(Handle {
                frame,
                expr: Some(v.expr.clone()),
            })
        } else {
            0
        };
        json!({
            "name": v.name, "value": v.value, "type": v.type_name,
            "evaluateName": v.expr, "variablesReference": reference,
        })
    }

    fn answer_evaluate(&mut self, id: u64, result: Result<Variable, String>) {
        let (seq, frame, command) = match self.pending.remove(&id) {
            Some(Pending::Evaluate { seq, frame }) => (seq, frame, "evaluate"),
            Some(Pending::SetVariable { seq, frame }) => (seq, frame, "setVariable"),
            _ => return,
        };
        match result {
            Err(e) => self.error_response(seq, command, &e),
            Ok(v) => {
                let variable = self.variable(frame, &v);
                let body = if command == "evaluate" {
                    json!({"result": v.value, "type": v.type_name,
                           "variablesReference": variable["variablesReference"]})
                } else {
                    json!({"value": v.value, "type": v.type_name,
                           "variablesReference": variable["variablesReference"]})
                };
                self.respond(seq, command, body);
            }
        }
    }

    /// The run is over: `exited` (with a code) and `terminated`, once.
    fn finish(&mut self, code: Option<i64>) {
        if self.ended {
            return;
        }
        self.ended = true;
        if let Some(code) = code {
            self.event("exited", json!({"exitCode": code}));
        }
        self.event("terminated", json!({}));
    }

    fn session_gone(&mut self) {
        for (_, pending) in std::mem::take(&mut self.pending) {
            let (seq, command) = match pending {
                Pending::Variables { seq, .. } => (seq, "variables"),
                Pending::Evaluate { seq, .. } => (seq, "evaluate"),
                Pending::SetVariable { seq, .. } => (seq, "setVariable"),
            };
            self.error_response(seq, command, "the run has ended");
        }
        self.running();
        self.finish(None);
    }

    // ---- places ----

    fn root(&self) -> PathBuf {
        self.port
            .project()
            .or(self.launch.as_ref().map(|l| &l.project))
            .map(|p| p.root.clone())
            .unwrap_or_default()
    }

    fn source(&self, file: &str) -> Value {
        let path = self.root().join(file);
        let name = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| file.to_string());
        json!({"name": name, "path": path.display().to_string()})
    }

    fn line_out(&self, line: u32) -> i64 {
        i64::from(line) - i64::from(!self.lines_from_1)
    }

    fn line_in(&self, line: i64) -> Option<u32> {
        u32::try_from(line + i64::from(!self.lines_from_1))
            .ok()
            .filter(|l| *l > 0)
    }
}

/// What the adapter can do, for `initialize`.
fn capabilities() -> Value {
    json!({
        "supportsConfigurationDoneRequest": true,
        "supportsConditionalBreakpoints": true,
        "supportsHitConditionalBreakpoints": true,
        "supportsLogPoints": true,
        "supportsEvaluateForHovers": true,
        "supportsSetVariable": true,
        "supportsTerminateRequest": true,
        "supportTerminateDebuggee": true,
        "exceptionBreakpointFilters": [{
            "filter": "uncaught", "label": "Uncaught errors", "default": true,
            "description": "Stop where a system, event handler or coroutine raises an error",
        }],
    })
}

/// A one-line rendering of runtime news for the debug console.
fn event_text(kind: &EventKind, frame: u64) -> String {
    let event = RuntimeEvent {
        frame,
        kind: kind.clone(),
    };
    event.describe()
}

/// A project file's path relative to the root, when it is inside it.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let rel = path.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// Moves a session's events into the adapter's input, then says the
/// session is gone.
fn forward(events: Receiver<SessionEvent>, inputs: &Sender<Input>) {
    let inputs = inputs.clone();
    let _ = std::thread::Builder::new()
        .name("ecscope-dap-events".into())
        .spawn(move || {
            for event in events {
                if inputs.send(Input::Session(event)).is_err() {
                    return;
                }
            }
            let _ = inputs.send(Input::SessionGone);
        });
}
