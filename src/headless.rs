//! `ecscope run`: a project without a window (SCRIPT_API §4).
//!
//! Outputs fail loudly: every output path is checked (its file, or a
//! temporary file beside it, created) before anything runs; a write that
//! fails stops the run with a message naming the path and the error; the
//! world dump and the profile are written whole or not at all (a temporary
//! file renamed into place at the end); the event stream is written at its
//! path as the run goes on (the contract has it flushed every frame), whole
//! frames only. Nothing here writes with `println!`/`eprintln!`, which panic
//! when standard output or standard error cannot be written.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::hot_reload::watcher::ProjectWatcher;
use crate::profiling::trace::Trace;
use crate::project::Project;
use crate::runtime::{EventKind, Runtime, RuntimeEvent};

/// Options of `ecscope run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The project folder.
    pub project: PathBuf,
    /// Frames to run; `None` runs until interrupted (with `realtime`).
    pub frames: Option<u64>,
    /// Where to write the world after the last frame.
    pub dump_world: Option<PathBuf>,
    /// Where to stream events; `-` is stdout.
    pub events: Option<String>,
    /// Pace frames to `fixed_dt`.
    pub realtime: bool,
    /// Hot-reload scripts when their files change.
    pub watch: bool,
    /// Where to write the recorded profile (`.puffin`).
    pub profile: Option<PathBuf>,
    /// Stream the profile with puffin_http on this address.
    pub serve_profile: Option<String>,
    /// Run the project in restricted mode (see [`Project::restricted`]).
    pub restricted: bool,
    /// Run the suggestion rules at the end (and write them as events).
    pub suggest: bool,
    /// Where to write the sampled script stacks, folded.
    pub samples: Option<PathBuf>,
    /// Where to write the Chrome Trace Event JSON (SCRIPT_API §7).
    pub trace: Option<PathBuf>,
    /// Measure `[budgets]` at the end (SCRIPT_API §7).
    pub check_budgets: bool,
    /// Worker threads for systems, over the manifest's `[runtime] threads`.
    pub threads: Option<u32>,
}

/// Frames `--profile` keeps at most (the latest, plus the slowest).
pub const PROFILE_FRAMES_KEPT: usize = 10_000;

/// Exit statuses of `ecscope run` and `ecscope bench`: SCRIPT_API §4's
/// `0`, `1` and `2`, and the cases it leaves open.
pub mod exit {
    /// The run completed its frames and wrote its files.
    pub const SUCCESS: u8 = 0;
    /// A script error occurred (the run still completed its frames and
    /// wrote its files).
    pub const SCRIPT_ERROR: u8 = 1;
    /// An output (the events, the dump, the profile, standard output) could
    /// not be written once the run had started: the run stopped there, and
    /// the dump and the profile were not written. The contract defines no
    /// status for this; it shares `1`, "the run did not go cleanly", and
    /// the message on standard error names the output and the error.
    pub const OUTPUT_FAILED: u8 = 1;
    /// Bad arguments, a bad manifest, or an output path that cannot be
    /// created: nothing ran.
    pub const NOTHING_RAN: u8 = 2;
    /// `--check-budgets`: the run completed without a script error, and a
    /// `[budgets]` limit was exceeded (SCRIPT_API §7); `bench
    /// --fail-on-regression`: a benchmark regressed.
    pub const OVER_BUDGET: u8 = 3;
    /// An output's reader went away (a broken pipe, as in `ecscope run DIR
    /// | head -1`): the run stopped there. 128 + SIGPIPE, the status a shell
    /// shows for a program that a broken pipe ended.
    pub const BROKEN_PIPE: u8 = 141;
}

/// What standard output is called in messages.
pub const STDOUT: &str = "standard output";

/// Why a run could not start (exit status 2) or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The manifest is bad or missing.
    #[error("{0}")]
    Manifest(#[from] crate::project::ManifestError),
    /// An output file could not be created (checked before anything runs).
    #[error("{path}: cannot write: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Arguments that do not fit together.
    #[error("{0}")]
    Arguments(String),
    /// An output failed once the run had started; the run stopped.
    #[error("{}", describe_write_failure(.target, .what, .source, .frames))]
    Write {
        /// The file, or [`STDOUT`].
        target: String,
        /// What was being written (`events`, `the world dump`...).
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
        /// Frames run when it failed.
        frames: u64,
    },
}

fn describe_write_failure(
    target: &str,
    what: &str,
    source: &std::io::Error,
    frames: &u64,
) -> String {
    let when = format!("stopped after frame {frames}, nothing more written");
    if source.kind() == ErrorKind::BrokenPipe {
        format!("{target}: closed by its reader (broken pipe) while writing {what}; {when}")
    } else {
        format!("{target}: cannot write {what}: {source}; {when}")
    }
}

impl RunError {
    /// The process exit status for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Manifest(_) | RunError::Output { .. } | RunError::Arguments(_) => {
                exit::NOTHING_RAN
            }
            RunError::Write { source, .. } if source.kind() == ErrorKind::BrokenPipe => {
                exit::BROKEN_PIPE
            }
            RunError::Write { .. } => exit::OUTPUT_FAILED,
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Frames run.
    pub frames: u64,
    /// Script errors reported.
    pub errors: usize,
    /// Wall time of the frames (not of loading).
    pub elapsed: Duration,
    /// What the suggestion rules found, with `suggest`.
    pub suggestions: Vec<crate::runtime::suggest::Suggestion>,
    /// `[budgets]` measured, with `check_budgets`.
    pub budgets: Vec<crate::runtime::budgets::BudgetResult>,
}

/// Writes one line to standard error; a standard error that cannot be
/// written (closed, full) is ignored, since there is nowhere left to say so.
pub fn eprint_line(line: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

/// Writes one line to standard output, returning the error (a broken pipe,
/// a full disk) instead of panicking as `println!` does.
pub fn print_line(line: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(line)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// An output file written whole or not at all.
///
/// [`OutputFile::create`] creates a temporary file beside the target, so a
/// path that cannot be written is found before anything runs;
/// [`OutputFile::commit`] writes, syncs and renames it into place. Dropped
/// uncommitted (an error, an early stop), the temporary file is removed; a
/// killed process leaves it (`.NAME.PID.N.tmp`) but never a partial file at
/// the target. A target that exists and is not a regular file (`/dev/null`,
/// `/dev/stdout`, a FIFO) is written directly: it cannot be renamed over.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    /// Where the temporary file goes (the target, through symlinks).
    dest: PathBuf,
    /// The temporary file; `None` when writing the target directly.
    tmp: Option<PathBuf>,
    file: Option<File>,
}

impl OutputFile {
    /// Checks that `target` can be written and opens its temporary file.
    pub fn create(target: &Path) -> std::io::Result<OutputFile> {
        let existing = std::fs::metadata(target).ok();
        if let Some(meta) = &existing {
            if meta.is_dir() {
                return Err(std::io::Error::new(
                    ErrorKind::IsADirectory,
                    "is a directory",
                ));
            }
            if !meta.is_file() {
                // A device, a FIFO, a socket: written in place.
                let file = OpenOptions::new().write(true).truncate(true).open(target)?;
                return Ok(OutputFile {
                    target: target.to_path_buf(),
                    dest: target.to_path_buf(),
                    tmp: None,
                    file: Some(file),
                });
            }
        }
        // Through a symlink, replace the file it points to, not the link.
        let dest = if existing.is_some() {
            std::fs::canonicalize(target)?
        } else {
            target.to_path_buf()
        };
        let name = dest
            .file_name()
            .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "not a file name"))?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut attempt = 0u32;
        let (tmp, file) = loop {
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{}.{attempt}.tmp", std::process::id()));
            let tmp = dir.join(tmp_name);
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => break (tmp, file),
                Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => return Err(e),
            }
        };
        if let Some(meta) = &existing {
            // Replacing a file keeps its permissions.
            let _ = file.set_permissions(meta.permissions());
        }
        Ok(OutputFile {
            target: target.to_path_buf(),
            dest,
            tmp: Some(tmp),
            file: Some(file),
        })
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Writes all of `bytes` (to the temporary file, synced to disk).
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("already written"))?;
        file.write_all(bytes)?;
        if self.tmp.is_some() {
            file.sync_all()?;
        }
        Ok(())
    }

    /// Puts the written file into place (renames the temporary file).
    pub fn finish(mut self) -> std::io::Result<()> {
        drop(self.file.take());
        if let Some(tmp) = &self.tmp {
            std::fs::rename(tmp, &self.dest)?;
            self.tmp = None;
        }
        Ok(())
    }

    /// [`write`](Self::write) then [`finish`](Self::finish).
    pub fn commit(mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write(bytes)?;
        self.finish()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

enum EventOut {
    None,
    Stdout,
    File { path: String, file: File },
}

/// The event stream: each frame's lines are written together at the end of
/// the frame, so a file holds whole frames only, even when a write fails.
struct EventSink {
    out: EventOut,
    pending: Vec<u8>,
    /// Bytes of the file known to be written.
    committed: u64,
}

impl EventSink {
    fn push(&mut self, event: &RuntimeEvent) {
        if !matches!(self.out, EventOut::None) {
            self.pending
                .extend_from_slice(event.to_json_line().as_bytes());
            self.pending.push(b'\n');
        }
    }

    /// Writes and flushes the pending lines.
    fn commit(&mut self, frames: u64) -> Result<(), RunError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (target, result) = match &mut self.out {
            EventOut::None => return Ok(()),
            EventOut::Stdout => {
                let mut out = std::io::stdout().lock();
                let result = out.write_all(&self.pending).and_then(|()| out.flush());
                (STDOUT.to_string(), result)
            }
            EventOut::File { path, file } => {
                let result = file.write_all(&self.pending);
                if result.is_err() {
                    // Drop a partly written frame; a device cannot be cut.
                    let _ = file.set_len(self.committed);
                }
                (path.clone(), result)
            }
        };
        match result {
            Ok(()) => {
                self.committed += self.pending.len() as u64;
                self.pending.clear();
                Ok(())
            }
            Err(source) => Err(RunError::Write {
                target,
                what: "events",
                source,
                frames,
            }),
        }
    }
}

fn output_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs a project headless: loads it, runs the frames, streams events and
/// writes the dump. Script errors do not stop the run; they are counted in
/// the summary. An output that fails stops it (see [`RunError::Write`]).
pub fn run(options: &RunOptions) -> Result<RunSummary, RunError> {
    if options.check_budgets && project_budgets_empty(&options.project) {
        return Err(RunError::Arguments(format!(
            "--check-budgets needs a [budgets] table in {}",
            options
                .project
                .join(crate::project::MANIFEST_FILE)
                .display()
        )));
    }
    if options.frames.is_none() && !options.realtime {
        return Err(RunError::Arguments(
            "--frames N is required (or --realtime to run until interrupted, or --dap to run until the debug client ends the run)".into(),
        ));
    }
    let mut project = Project::open(&options.project)?;
    if let Some(threads) = options.threads {
        project.manifest.runtime.threads = Some(threads);
    }
    if options.restricted {
        project = project.restricted();
    }
    // Every output is checked before anything runs. The temporary files
    // first: they touch nothing that exists; the events file (truncated)
    // last.
    let profile_file = match &options.profile {
        Some(path) => Some(OutputFile::create(path).map_err(output_error(path))?),
        None => None,
    };
    let samples_file = match &options.samples {
        Some(path) => {
            if project.manifest.profiling.sample_hz == 0 {
                return Err(RunError::Arguments(format!(
                    "--samples needs sampling on, and {} sets [profiling] sample_hz = 0",
                    project.root.join(crate::project::MANIFEST_FILE).display()
                )));
            }
            Some(OutputFile::create(path).map_err(output_error(path))?)
        }
        None => None,
    };
    let dump_file = match &options.dump_world {
        Some(path) => Some(OutputFile::create(path).map_err(output_error(path))?),
        None => None,
    };
    let trace_file = match &options.trace {
        Some(path) => Some(OutputFile::create(path).map_err(output_error(path))?),
        None => None,
    };
    let (mut sink, console) = event_sink(options)?;

    let changes = if options.watch {
        let (tx, rx) = std::sync::mpsc::channel();
        let watcher = ProjectWatcher::start(&project.root, move |change| {
            let _ = tx.send(change);
        })
        .map_err(RunError::Arguments)?;
        Some((watcher, rx))
    } else {
        None
    };
    // Made before the project opens, so its scripts' loading is on it.
    let trace = trace_file.as_ref().map(|_| {
        std::sync::Arc::new(std::sync::Mutex::new(Trace::new(
            &project.manifest.project.name,
        )))
    });
    let mut runtime = Runtime::open(project);
    if samples_file.is_some() {
        runtime.sample_always();
    }
    // The trace gets every finished frame from the profiler, and each
    // frame's events and counters from the loop below.
    if let Some(trace) = &trace {
        // The sampler keeps each sample's time, for script frames under
        // the calls.
        runtime.time_samples();
        let fed = std::sync::Arc::clone(trace);
        if let Ok(mut collector) = runtime.profile_collector().lock() {
            collector.add_sink(Box::new(move |frame| {
                if let Ok(mut trace) = fed.lock() {
                    trace.add_frame(frame);
                }
            }));
        }
    }
    let emit = |runtime: &mut Runtime, sink: &mut EventSink, frames: u64| -> Result<(), RunError> {
        let events = runtime.drain_events();
        if let Some(trace) = &trace
            && let Ok(mut trace) = trace.lock()
        {
            let (samples, period_ns) = runtime.sample_timeline();
            trace.add_samples(&samples, period_ns);
            trace_frame(&mut trace, runtime, &events);
        }
        for event in events {
            report_to_terminal(&event, console).map_err(|source| RunError::Write {
                target: STDOUT.to_string(),
                what: "log lines",
                source,
                frames,
            })?;
            sink.push(&event);
        }
        sink.commit(frames)
    };
    emit(&mut runtime, &mut sink, 0)?;
    if profile_file.is_some() {
        let kept = options.frames.map_or(PROFILE_FRAMES_KEPT, |n| {
            (n as usize).min(PROFILE_FRAMES_KEPT)
        });
        if let Ok(mut frames) = runtime.profile_frames().lock() {
            frames.set_max_recent(kept.max(1));
        }
    }
    let _server = match &options.serve_profile {
        Some(addr) => {
            let server = crate::profiling::serve::serve(runtime.profile_collector(), addr)
                .map_err(|e| RunError::Arguments(e.to_string()))?;
            eprint_line(format_args!(
                "serving the profile on {addr} (puffin_viewer --url {addr}, or File › Connect in ECScope)"
            ));
            Some(server)
        }
        None => None,
    };

    let started = Instant::now();
    let dt = Duration::from_secs_f64(runtime.project().manifest.world.fixed_dt);
    let mut frame = 0u64;
    while options.frames.is_none_or(|n| frame < n) {
        if let Some((_, rx)) = &changes {
            // Between frames: the swap never happens mid-frame.
            for change in rx.try_iter() {
                runtime.file_changed(&change);
            }
        }
        runtime.step();
        frame += 1;
        emit(&mut runtime, &mut sink, frame)?;
        if options.realtime {
            let due = started + dt.mul_f64(frame as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
    let elapsed = started.elapsed();
    let suggestions = if options.suggest {
        runtime.suggestions()
    } else {
        Vec::new()
    };
    if !matches!(sink.out, EventOut::None) && !suggestions.is_empty() {
        for suggestion in &suggestions {
            sink.push(&RuntimeEvent {
                frame: runtime.frame(),
                kind: EventKind::Suggestion(suggestion.clone()),
            });
        }
        sink.commit(frame)?;
    }
    // The statistics close the event stream.
    if !matches!(sink.out, EventOut::None)
        && let serde_json::Value::Object(summary) = runtime.stats_summary()
    {
        sink.push(&RuntimeEvent {
            frame: runtime.frame(),
            kind: EventKind::ProfileStats { summary },
        });
        sink.commit(frame)?;
    }

    // Both files are written before either is put into place.
    let write_failed = |file: &OutputFile, what: &'static str| {
        let target = file.path().display().to_string();
        move |source| RunError::Write {
            target,
            what,
            source,
            frames: frame,
        }
    };
    let mut written = Vec::new();
    if let Some(mut file) = profile_file {
        let mut bytes = Vec::new();
        runtime
            .profile_frames()
            .lock()
            .map_err(|_| std::io::Error::other("the profiler stopped"))
            .and_then(|frames| frames.write(&mut bytes).map_err(std::io::Error::other))
            .and_then(|()| file.write(&bytes))
            .map_err(write_failed(&file, "the profile"))?;
        written.push((file, "the profile"));
    }
    if let Some(mut file) = samples_file {
        let text = crate::profiling::samples::folded_text(&runtime.samples());
        file.write(text.as_bytes())
            .map_err(write_failed(&file, "the samples"))?;
        written.push((file, "the samples"));
    }
    if let Some(mut file) = dump_file {
        file.write(runtime.dump_world().as_bytes())
            .map_err(write_failed(&file, "the world dump"))?;
        written.push((file, "the world dump"));
    }
    if let (Some(mut file), Some(trace)) = (trace_file, &trace) {
        let text = trace.lock().map(|t| t.to_json()).unwrap_or_default();
        file.write(text.as_bytes())
            .map_err(write_failed(&file, "the trace"))?;
        written.push((file, "the trace"));
    }
    for (file, what) in written {
        let failed = write_failed(&file, what);
        file.finish().map_err(failed)?;
    }
    Ok(RunSummary {
        frames: frame,
        errors: runtime.error_count(),
        elapsed,
        suggestions,
        budgets: if options.check_budgets {
            runtime.budget_results()
        } else {
            Vec::new()
        },
    })
}

/// Whether the project's manifest has no `[budgets]` (an unreadable one
/// is reported when the project opens).
fn project_budgets_empty(dir: &Path) -> bool {
    Project::open(dir).is_ok_and(|p| p.manifest.budgets.is_empty())
}

/// What happened in the frame just run, on the trace: its events that are
/// instants (errors, reloads, rollbacks, leaks) and its counters (memory
/// and entity counts), at the frame's end.
fn trace_frame(trace: &mut Trace, runtime: &Runtime, events: &[RuntimeEvent]) {
    let now = puffin::now_ns();
    for marker in events.iter().filter_map(crate::runtime::marker_of) {
        trace.marker(&marker);
    }
    for (track, values) in runtime.counters_now() {
        let values: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        trace.counter(&track, now, &values);
    }
}

/// Errors and notices to standard error (best effort), log lines to
/// standard output unless it carries the events; a failing standard output
/// is returned.
fn report_to_terminal(event: &RuntimeEvent, console: bool) -> std::io::Result<()> {
    match &event.kind {
        EventKind::ScriptError(info) => {
            let file = info.file.as_deref().unwrap_or(&info.script);
            eprint_line(format_args!(
                "error: {file}:{}: {} (frame {}, {})",
                info.line, info.message, event.frame, info.context
            ));
            for line in info.traceback.lines() {
                eprint_line(format_args!("    {line}"));
            }
        }
        EventKind::Log { .. } if console => {
            print_line(format_args!("{}", event.describe()))?;
        }
        EventKind::Notice { message } => eprint_line(format_args!("note: {message}")),
        _ => {}
    }
    Ok(())
}

/// The `--events` output (created, and so truncated, now), and whether log
/// lines go to the terminal (not when standard output carries the events).
fn event_sink(options: &RunOptions) -> Result<(EventSink, bool), RunError> {
    let out = match options.events.as_deref() {
        None => EventOut::None,
        Some("-") => EventOut::Stdout,
        Some(path) => {
            let file = File::create(path).map_err(output_error(Path::new(path)))?;
            EventOut::File {
                path: path.to_string(),
                file,
            }
        }
    };
    let console = !matches!(out, EventOut::Stdout);
    let sink = EventSink {
        out,
        pending: Vec::new(),
        committed: 0,
    };
    Ok((sink, console))
}

/// `ecscope run DIR --dap ADDR`: runs the project in a session that one
/// debug client at a time can attach to (SCRIPT_API §6), until its frames
/// are run or the client ends the run. Writes `--events` as the run goes;
/// the outputs written after the last frame are not available with it.
pub fn run_with_debugger(options: &RunOptions, address: &str) -> Result<RunSummary, RunError> {
    use crate::runtime::session::{Session, SessionEvent, SessionOptions};
    let unavailable = [
        ("--dump-world", options.dump_world.is_some()),
        ("--profile", options.profile.is_some()),
        ("--trace", options.trace.is_some()),
        ("--check-budgets", options.check_budgets),
        ("--serve-profile", options.serve_profile.is_some()),
        ("--suggest", options.suggest),
        ("--samples", options.samples.is_some()),
    ];
    if let Some((flag, _)) = unavailable.iter().find(|(_, given)| *given) {
        return Err(RunError::Arguments(format!(
            "{flag} cannot be used with --dap (a debugged run can end at any moment); run without --dap for it"
        )));
    }
    let mut project = Project::open(&options.project)?;
    if let Some(threads) = options.threads {
        project.manifest.runtime.threads = Some(threads);
    }
    if options.restricted {
        project = project.restricted();
    }
    let (mut sink, console) = event_sink(options)?;
    let session_options = SessionOptions {
        playing: true,
        paced: options.realtime,
        frame_limit: options.frames,
        saved_breakpoints: false,
        breakpoints: Vec::new(),
        // Nobody may be there to see a stop until a client attaches.
        break_on_error: false,
        step_across_calls: true,
    };
    let mut session = Session::start_with(project, session_options, std::sync::Arc::new(|| {}));
    let events = session.take_events();
    let linker = session.linker();
    let listener = crate::dap::Listener::start(address, move || Some(linker.link()))
        .map_err(|e| RunError::Arguments(format!("--dap {address}: cannot listen: {e}")))?;
    eprint_line(format_args!(
        "waiting for a debug client on {} (the run goes on meanwhile{})",
        listener.address(),
        if options.realtime {
            ""
        } else {
            "; frames run flat out: add --realtime to run at the game's pace"
        }
    ));
    let started = Instant::now();
    let mut frame = 0u64;
    let mut errors = 0usize;
    loop {
        let event = match events.recv_timeout(Duration::from_millis(100)) {
            Ok(event) => event,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if listener.take_ended() == Some(crate::dap::Ended::Terminate) {
                    break;
                }
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            SessionEvent::Runtime(event) => {
                frame = frame.max(event.frame);
                errors += usize::from(event.as_error().is_some());
                report_to_terminal(&event, console).map_err(|source| RunError::Write {
                    target: STDOUT.to_string(),
                    what: "log lines",
                    source,
                    frames: frame,
                })?;
                sink.push(&event);
                sink.commit(frame)?;
            }
            SessionEvent::Finished { frames } => {
                frame = frames;
                break;
            }
            SessionEvent::CommandFailed(message) => eprint_line(format_args!("note: {message}")),
            // Between the session and its debug client.
            SessionEvent::BreakpointsChanged(_) => {}
            SessionEvent::Crashed(message) => {
                errors += 1;
                eprint_line(format_args!(
                    "error: the runtime stopped after an internal error: {message}"
                ));
                break;
            }
            _ => {}
        }
        if listener.take_ended() == Some(crate::dap::Ended::Terminate) {
            break;
        }
    }
    let elapsed = started.elapsed();
    if let Some(snapshot) = session.snapshot() {
        frame = frame.max(snapshot.view.frame);
    }
    // The client hears `terminated` as the session ends.
    drop(session);
    if listener.client_attached() {
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(listener);
    Ok(RunSummary {
        frames: frame,
        errors,
        elapsed,
        suggestions: Vec::new(),
        budgets: Vec::new(),
    })
}
