//! `ecscope run`: a project without a window (SCRIPT_API §4).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::hot_reload::watcher::ProjectWatcher;
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
}

/// Frames `--profile` keeps at most (the latest, plus the slowest).
pub const PROFILE_FRAMES_KEPT: usize = 10_000;

/// Why a run could not start (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The manifest is bad or missing.
    #[error("{0}")]
    Manifest(#[from] crate::project::ManifestError),
    /// An output file could not be created.
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
}

enum EventSink {
    None,
    Stdout,
    File(BufWriter<File>),
}

impl EventSink {
    fn write(&mut self, event: &RuntimeEvent) -> std::io::Result<()> {
        match self {
            EventSink::None => Ok(()),
            EventSink::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", event.to_json_line())
            }
            EventSink::File(w) => writeln!(w, "{}", event.to_json_line()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            EventSink::None => Ok(()),
            EventSink::Stdout => std::io::stdout().flush(),
            EventSink::File(w) => w.flush(),
        }
    }
}

fn create(path: &PathBuf) -> Result<File, RunError> {
    File::create(path).map_err(|source| RunError::Output {
        path: path.clone(),
        source,
    })
}

/// Runs a project headless: loads it, runs the frames, streams events and
/// writes the dump. Script errors do not stop the run; they are counted in
/// the summary.
pub fn run(options: &RunOptions) -> Result<RunSummary, RunError> {
    if options.frames.is_none() && !options.realtime {
        return Err(RunError::Arguments(
            "--frames N is required (or --realtime to run until interrupted)".into(),
        ));
    }
    let mut project = Project::open(&options.project)?;
    if options.restricted {
        project = project.restricted();
    }
    let mut sink = match options.events.as_deref() {
        None => EventSink::None,
        Some("-") => EventSink::Stdout,
        Some(path) => EventSink::File(BufWriter::new(create(&PathBuf::from(path))?)),
    };
    let dump_file = options.dump_world.as_ref().map(create).transpose()?;
    let profile_file = options.profile.as_ref().map(create).transpose()?;
    let console = !matches!(sink, EventSink::Stdout);

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
    let mut runtime = Runtime::open(project);
    let emit = |runtime: &mut Runtime, sink: &mut EventSink| {
        for event in runtime.drain_events() {
            report_to_terminal(&event, console);
            // A failing events file must not stop the simulation.
            let _ = sink.write(&event);
        }
        let _ = sink.flush();
    };
    emit(&mut runtime, &mut sink);
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
                .map_err(RunError::Arguments)?;
            eprintln!(
                "serving the profile on {addr} (puffin_viewer --url {addr}, or File › Connect in ECScope)"
            );
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
        emit(&mut runtime, &mut sink);
        if options.realtime {
            let due = started + dt.mul_f64(frame as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
    let elapsed = started.elapsed();
    // The statistics close the event stream.
    if !matches!(sink, EventSink::None)
        && let serde_json::Value::Object(summary) = runtime.stats_summary()
    {
        let _ = sink.write(&RuntimeEvent {
            frame: runtime.frame(),
            kind: EventKind::ProfileStats { summary },
        });
        let _ = sink.flush();
    }

    if let (Some(mut file), Some(path)) = (profile_file, options.profile.as_ref()) {
        let mut bytes = Vec::new();
        let written = runtime
            .profile_frames()
            .lock()
            .map_err(|_| std::io::Error::other("the profiler stopped"))
            .and_then(|frames| frames.write(&mut bytes).map_err(std::io::Error::other))
            .and_then(|()| file.write_all(&bytes));
        written.map_err(|source| RunError::Output {
            path: path.clone(),
            source,
        })?;
    }
    if let (Some(mut file), Some(path)) = (dump_file, options.dump_world.as_ref()) {
        file.write_all(runtime.dump_world().as_bytes())
            .map_err(|source| RunError::Output {
                path: path.clone(),
                source,
            })?;
    }
    Ok(RunSummary {
        frames: frame,
        errors: runtime.error_count(),
        elapsed,
    })
}

fn report_to_terminal(event: &RuntimeEvent, console: bool) {
    match &event.kind {
        EventKind::ScriptError(info) => {
            let file = info.file.as_deref().unwrap_or(&info.script);
            eprintln!(
                "error: {file}:{}: {} (frame {}, {})",
                info.line, info.message, event.frame, info.context
            );
            for line in info.traceback.lines() {
                eprintln!("    {line}");
            }
        }
        EventKind::Log { .. } if console => println!("{}", event.describe()),
        EventKind::Notice { message } => eprintln!("note: {message}"),
        _ => {}
    }
}
