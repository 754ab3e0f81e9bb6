//! The `ecscope` command: opens the GUI, or runs a project headless.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ecscope::headless::{OutputFile, STDOUT, eprint_line, exit, print_line};

/// ECScope: a visual debugger and profiler for ECS game logic scripted in
/// Lua and Python.
#[derive(Debug, Parser)]
#[command(name = "ecscope", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// Project folder to open in the GUI (a folder with an ecscope.toml).
    project: Option<PathBuf>,

    /// Save a PNG of the window once the project is ready, then quit
    /// (used to regenerate screenshots/).
    #[arg(long, value_name = "FILE")]
    screenshot: Option<PathBuf>,

    /// Start paused and run exactly N frames first (with --screenshot, the
    /// frame that is captured).
    #[arg(long, value_name = "N")]
    steps: Option<u32>,

    /// Select this entity id at start (the inspector shows it).
    #[arg(long, value_name = "ID")]
    select: Option<u64>,

    /// Bring this panel's tab to the front at start (Scripts, Coroutines...).
    #[arg(long, value_name = "NAME")]
    panel: Option<String>,

    /// Select this coroutine id at start (the Coroutines panel shows it).
    #[arg(long, value_name = "ID")]
    coroutine: Option<u64>,

    /// Open the project restricted: Lua sandboxed whatever the manifest
    /// says, Python not run (as for a project you do not trust).
    #[arg(long)]
    restricted: bool,

    /// Set by the window's supervisor when it restarts the window after a
    /// crash: what crashed, shown once the window is open.
    #[arg(long, value_name = "MESSAGE", hide = true)]
    after_crash: Option<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a project without a window, for CI, benchmarks and profiling.
    ///
    /// Exit status: 0 success; 1 a script error occurred (the run still
    /// completes its frames and writes its files), or an output could not
    /// be written (the run stops there; the message names it); 2 bad
    /// arguments, a bad manifest or an output path that cannot be created
    /// (nothing is run); 3 with --check-budgets, a [budgets] limit was
    /// exceeded (and no script error occurred); 141 standard output closed
    /// by its reader (a broken pipe; the run stops there).
    Run(RunArgs),
    /// Measure the runtime: each benchmark's time and its ratio to a
    /// baseline measured in the same run.
    Bench(BenchArgs),
    /// Validate the manifest and compile every script without running it;
    /// report every error in one pass.
    ///
    /// Exit status: 0 no problem; 1 a script does not compile; 2 the
    /// manifest is bad (its scripts are compiled all the same).
    Check(CheckArgs),
    /// Make a new project that runs at once: a manifest, a README, a first
    /// script and a .gitignore. Refuses a folder that exists.
    New(NewArgs),
    /// Write editor typings for the ecs API and the project's components:
    /// LuaLS annotations and a Python stub, in DIR/.ecscope/types/.
    Types(TypesArgs),
    /// Run a project headless and write one self-contained HTML report:
    /// the frame-time chart, the sampled flame graph, the systems and
    /// functions tables, the suggestions, the memory charts and the
    /// budgets.
    ///
    /// Exit status: 0 written; 1 a script error occurred (the report is
    /// written all the same) or it could not be written; 2 bad arguments,
    /// a bad manifest or an output path that cannot be created; 3 a
    /// [budgets] limit was exceeded.
    Report(ReportArgs),
    /// Compare two saved profiles (.puffin): each system's, handler's,
    /// coroutine's and phase's mean ms per frame before and after, the
    /// ratio, the change, and whether it is beyond the frame-to-frame
    /// noise.
    ///
    /// Exit status: 0 compared; 2 a profile could not be read.
    Compare(CompareArgs),
    /// A debug adapter on standard input and output, for editors (VS Code,
    /// Neovim, JetBrains IDEs): `launch` with {"project": DIR}.
    Dap,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The project folder.
    dir: PathBuf,
    /// Frames to run.
    #[arg(long, value_name = "N", default_value_t = 600)]
    frames: u64,
    /// Where to write the HTML.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "report.html"
    )]
    output: PathBuf,
    /// Worker threads for systems, over the manifest's [runtime] threads.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    threads: Option<u32>,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The profile before the change (File › Save profile…, or
    /// `ecscope run --profile`).
    before: PathBuf,
    /// The profile after it.
    after: PathBuf,
    /// Print JSON: the scopes compared, largest change first.
    #[arg(long)]
    json: bool,
    /// Also compare the sampled functions: the folded stacks of the same
    /// two runs (`ecscope run --samples`, or File › Save samples…).
    #[arg(long, num_args = 2, value_names = ["BEFORE", "AFTER"])]
    samples: Option<Vec<PathBuf>>,
}

#[derive(Debug, Args)]
struct TypesArgs {
    /// The project folder.
    dir: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The project folder.
    dir: PathBuf,
    /// `text` (a `file:line: message` line per problem) or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

#[derive(Debug, Args)]
struct NewArgs {
    /// The folder to make (its name is the project's).
    name: PathBuf,
    /// Start with a Python script instead of a Lua one.
    #[arg(long)]
    python: bool,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// A reduced set that finishes in under a minute.
    #[arg(long)]
    quick: bool,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Only run benchmarks whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Compare each benchmark with an earlier run's --json FILE, and list
    /// those worse beyond the measured noise (three times the two runs'
    /// combined spread, and at least 15%).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// With --baseline: exit 3 when a benchmark regressed.
    #[arg(long, requires = "baseline")]
    fail_on_regression: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The project folder (with an ecscope.toml).
    project: PathBuf,
    /// Number of frames to run (each is one fixed_dt of simulated time).
    #[arg(long, value_name = "N")]
    frames: Option<u64>,
    /// Write the world as JSON after the last frame.
    #[arg(long, value_name = "FILE")]
    dump_world: Option<PathBuf>,
    /// Write the event stream as JSON lines, flushed every frame ("-" = stdout).
    #[arg(long, value_name = "FILE")]
    events: Option<String>,
    /// Pace frames to fixed_dt instead of running flat out (without
    /// --frames, runs until interrupted).
    #[arg(long)]
    realtime: bool,
    /// Hot-reload scripts (and the manifest) when their files change; use
    /// with --realtime. A saved change applies, and its `reloaded` event is
    /// written, within one second.
    #[arg(long)]
    watch: bool,
    /// Write the recorded profile (open it in ECScope or puffin_viewer).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Stream the profile with puffin_http on this address (e.g.
    /// 127.0.0.1:8585) for puffin_viewer or ECScope's File › Connect.
    #[arg(long, value_name = "ADDR")]
    serve_profile: Option<String>,
    /// Run as an untrusted project: Lua scripts sandboxed whatever the
    /// manifest says, Python scripts not run (each one skipped is reported).
    #[arg(long)]
    restricted: bool,
    /// After the run, print suggestions that name the fix (a query inside
    /// a loop, a per-entity Python system over many entities, tables made
    /// per entity, garbage collection, a coroutine that polls, a system
    /// over its budget, a leak); with --events, also as `suggestion` events.
    #[arg(long)]
    suggest: bool,
    /// Write sampled script stacks as folded lines ("root;frame;frame
    /// COUNT"), for inferno, flamegraph.pl or speedscope; sampled at
    /// [profiling] sample_hz, in Lua and Python.
    #[arg(long, value_name = "FILE")]
    samples: Option<PathBuf>,
    /// Write a Chrome Trace Event JSON file that ui.perfetto.dev and
    /// chrome://tracing open: frames, phases, systems, handlers and
    /// coroutine resumes on one track per thread, errors, reloads,
    /// rollbacks and leaks as instants, memory and entity counts as
    /// counters.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// After the run, measure the manifest's [budgets] (p95 frame time and
    /// p95 ms per frame of named systems, over the last 600 frames) and
    /// exit 3 when one is exceeded, naming it with the measured and the
    /// allowed value.
    #[arg(long)]
    check_budgets: bool,
    /// Accept one debug client at a time on this address (e.g.
    /// 127.0.0.1:4711): an editor attaches with the Debug Adapter
    /// Protocol. Without --frames, runs until the client ends the run.
    #[arg(long, value_name = "ADDR")]
    dap: Option<String>,
    /// Worker threads for systems that declare their access (1 to 256;
    /// 1 runs them one at a time), over the manifest's [runtime] threads.
    #[arg(long, value_name = "N", value_parser = parse_threads, allow_negative_numbers = true)]
    threads: Option<u32>,
}

fn parse_threads(text: &str) -> Result<u32, ecscope::project::ThreadsError> {
    let n: i64 = text.trim().parse().map_err(|_| {
        format!(
            "must be a whole number of threads from 1 to {}, got {text:?}",
            ecscope::project::MAX_THREADS
        )
    })?;
    ecscope::project::check_threads(n)
}

fn main() -> ExitCode {
    // Python's string hashes are randomised per process unless the seed is
    // pinned before the interpreter starts; sets and dicts of strings would
    // then iterate differently on each run, against the determinism
    // contract. The seed is fixed for every project and machine.
    // SAFETY: the first thing the process does, before any other thread
    // exists, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("PYTHONHASHSEED", "0") };
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Run(args)) => run(args),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::Check(args)) => check(args),
        Some(Command::New(args)) => new_project(args),
        Some(Command::Types(args)) => types(args),
        Some(Command::Dap) => dap(),
        Some(Command::Compare(args)) => compare(args),
        Some(Command::Report(args)) => report(args),
        None => open_gui(cli),
    }
}

fn run(args: RunArgs) -> ExitCode {
    // A call no limit can stop would hang the run for good: say which
    // script it was and end the process, as a script error.
    // A crash in native code or an abort: say in which script, exit 1.
    ecscope::crash::install(2, Some(i32::from(exit::SCRIPT_ERROR)));
    ecscope::scripting::watchdog::on_stuck(|call| {
        eprint_line(format_args!("error: {call}; stopping the run"));
        std::process::exit(i32::from(exit::SCRIPT_ERROR));
    });
    let options = ecscope::headless::RunOptions {
        project: args.project,
        frames: args.frames,
        dump_world: args.dump_world,
        events: args.events,
        realtime: args.realtime,
        watch: args.watch,
        profile: args.profile,
        serve_profile: args.serve_profile,
        restricted: args.restricted,
        suggest: args.suggest,
        samples: args.samples,
        trace: args.trace,
        check_budgets: args.check_budgets,
        threads: args.threads,
    };
    let suggest = args.suggest;
    if let Some(address) = args.dap {
        return finish_run(
            ecscope::headless::run_with_debugger(&options, &address),
            false,
        );
    }
    // Scripts run on a thread with the stack they may need (see
    // SCRIPT_STACK); the main thread's is smaller.
    let run = std::thread::Builder::new()
        .name("ecscope-runtime".into())
        .stack_size(ecscope::runtime::SCRIPT_STACK)
        .spawn(move || ecscope::headless::run(&options))
        .map_err(|e| e.to_string())
        .and_then(|thread| thread.join().map_err(|_| "the run panicked".to_string()));
    let result = match run {
        Ok(result) => result,
        Err(problem) => {
            eprint_line(format_args!("error: {problem}"));
            return ExitCode::from(exit::SCRIPT_ERROR);
        }
    };
    finish_run(result, suggest)
}

/// Reports a run's outcome and gives its exit status.
fn finish_run(
    result: Result<ecscope::headless::RunSummary, ecscope::headless::RunError>,
    suggest: bool,
) -> ExitCode {
    match result {
        Ok(summary) => {
            let per_frame = if summary.frames > 0 {
                summary.elapsed.as_secs_f64() * 1000.0 / summary.frames as f64
            } else {
                0.0
            };
            eprint_line(format_args!(
                "ran {} frames in {:.3} s ({per_frame:.3} ms/frame), {} script error(s)",
                summary.frames,
                summary.elapsed.as_secs_f64(),
                summary.errors
            ));
            if suggest {
                let mut lines: Vec<String> = summary
                    .suggestions
                    .iter()
                    .map(|s| format!("suggestion: {}", s.describe()))
                    .collect();
                if lines.is_empty() {
                    lines.push("no suggestions".to_string());
                }
                for line in lines {
                    if let Err(e) = print_line(format_args!("{line}")) {
                        eprint_line(format_args!("error: cannot write the suggestions: {e}"));
                        return ExitCode::from(exit::OUTPUT_FAILED);
                    }
                }
            }
            for budget in &summary.budgets {
                let verdict = if budget.exceeded() {
                    "over budget"
                } else {
                    "budget"
                };
                eprint_line(format_args!("{verdict}: {}", budget.describe()));
            }
            run_status(summary.errors, summary.budgets.iter().any(|b| b.exceeded()))
        }
        Err(err) => {
            eprint_line(format_args!("error: {err}"));
            ExitCode::from(err.exit_code())
        }
    }
}

fn dap() -> ExitCode {
    ecscope::crash::install(2, Some(i32::from(exit::SCRIPT_ERROR)));
    match ecscope::dap::serve_stdio() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprint_line(format_args!(
                "error: the debug adapter cannot use standard output: {e}"
            ));
            ExitCode::from(exit::SCRIPT_ERROR)
        }
    }
}

/// A finished run's status: a script error first (1), then a budget over
/// (3), else success.
fn run_status(errors: usize, over_budget: bool) -> ExitCode {
    if errors > 0 {
        ExitCode::from(exit::SCRIPT_ERROR)
    } else if over_budget {
        ExitCode::from(exit::OVER_BUDGET)
    } else {
        ExitCode::SUCCESS
    }
}

fn report(args: ReportArgs) -> ExitCode {
    let options = ecscope::report::ReportOptions {
        project: args.dir,
        frames: args.frames,
        output: args.output.clone(),
        threads: args.threads,
    };
    // Scripts run on a thread with the stack they may need.
    let run = std::thread::Builder::new()
        .name("ecscope-runtime".into())
        .stack_size(ecscope::runtime::SCRIPT_STACK)
        .spawn(move || ecscope::report::report(&options));
    let result = match run.map(|handle| handle.join()) {
        Ok(Ok(result)) => result,
        _ => {
            eprint_line(format_args!("error: the report's run stopped unexpectedly"));
            return ExitCode::from(exit::SCRIPT_ERROR);
        }
    };
    match result {
        Ok(summary) => {
            eprint_line(format_args!(
                "wrote {} ({} KB) after {} frames, {} script error(s), {} budget(s) over",
                args.output.display(),
                summary.bytes / 1024,
                summary.frames,
                summary.errors,
                summary.over_budget
            ));
            run_status(summary.errors, summary.over_budget > 0)
        }
        Err(err) => {
            eprint_line(format_args!("error: {err}"));
            ExitCode::from(err.exit_code())
        }
    }
}

fn compare(args: CompareArgs) -> ExitCode {
    use ecscope::profiling::compare;
    let mut measured = Vec::new();
    for path in [&args.before, &args.after] {
        match ecscope::profiling::profiler::read_profile(path) {
            Ok((view, warning)) => {
                if let Some(warning) = warning {
                    eprint_line(format_args!("note: {warning}"));
                }
                measured.push(compare::measures(&view));
            }
            Err(e) => {
                eprint_line(format_args!("error: {e}"));
                return ExitCode::from(exit::NOTHING_RAN);
            }
        }
    }
    let (before, after) = (&measured[0], &measured[1]);
    if compare::different_projects(before, after) {
        eprint_line(format_args!(
            "note: the two profiles share no script system: they may be of different projects"
        ));
    }
    let changes = compare::compare(before, after);
    // Each run's sampled functions, their calls' time divided as their
    // samples divide.
    let functions = match &args.samples {
        Some(files) => {
            let mut sides = Vec::new();
            for (file, scopes) in files.iter().zip([before, after]) {
                match ecscope::profiling::samples::read_folded(file) {
                    Ok(folded) => {
                        if folded.is_empty() {
                            eprint_line(format_args!(
                                "note: {} holds no samples: every function of the other run shows as new or gone",
                                file.display()
                            ));
                        }
                        let frames = scopes.get("frame").map_or(0, |m| m.frames) as u64;
                        sides.push(
                            compare::SampleCounts::of(&folded, frames).functions(None, scopes),
                        );
                    }
                    Err(e) => {
                        eprint_line(format_args!("error: {e}"));
                        return ExitCode::from(exit::NOTHING_RAN);
                    }
                }
            }
            Some(compare::compare(&sides[0], &sides[1]))
        }
        None => None,
    };
    let text = if args.json {
        let rows = |changes: &[compare::Change]| -> Vec<serde_json::Value> {
            changes
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    v["verdict"] = serde_json::Value::from(c.verdict());
                    v
                })
                .collect()
        };
        serde_json::json!({
            "before": { "path": args.before, "frames": before.get("frame").map_or(0, |m| m.frames) },
            "after": { "path": args.after, "frames": after.get("frame").map_or(0, |m| m.frames) },
            "scopes": rows(&changes),
            "functions": functions.as_deref().map(rows),
        })
        .to_string()
    } else {
        let mut text = compare::table(&changes);
        if let Some(functions) = &functions {
            text.push('\n');
            text.push_str(&compare::table_of(
                functions,
                "function (sampled, self time)",
            ));
        }
        text.trim_end().to_string()
    };
    match print_line(format_args!("{text}")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint_line(format_args!("error: cannot write the comparison: {e}"));
            ExitCode::from(exit::OUTPUT_FAILED)
        }
    }
}

fn check(args: CheckArgs) -> ExitCode {
    if !args.dir.is_dir() {
        eprint_line(format_args!(
            "error: {}: no such project folder",
            args.dir.display()
        ));
        return ExitCode::from(exit::NOTHING_RAN);
    }
    let report = ecscope::check::check(&args.dir);
    let text = if args.format == "json" {
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        report.text()
    };
    let _ = print_line(format_args!("{}", text.trim_end()));
    ExitCode::from(report.exit_code())
}

fn types(args: TypesArgs) -> ExitCode {
    match ecscope::types::write(&args.dir) {
        Ok((files, problems)) => {
            for problem in problems {
                eprint_line(format_args!("warning: {problem}"));
            }
            for file in files {
                let _ = print_line(format_args!("wrote {}", file.display()));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint_line(format_args!("error: {e}"));
            ExitCode::from(exit::NOTHING_RAN)
        }
    }
}

fn new_project(args: NewArgs) -> ExitCode {
    match ecscope::new_project::create(&args.name, args.python) {
        Ok(made) => {
            let _ = print_line(format_args!(
                "made {} ({}); open it with `ecscope {}` or run it with `ecscope run {} --frames 60`",
                args.name.display(),
                made.join(", "),
                args.name.display(),
                args.name.display()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint_line(format_args!("error: {}: {e}", args.name.display()));
            ExitCode::from(exit::NOTHING_RAN)
        }
    }
}

fn bench(args: BenchArgs) -> ExitCode {
    // The JSON file is checked before anything runs.
    let json = match args.json.as_deref().map(OutputFile::create).transpose() {
        Ok(json) => json,
        Err(err) => {
            let path = args.json.as_deref().unwrap_or(Path::new(""));
            eprint_line(format_args!(
                "error: {}: cannot write: {err}",
                path.display()
            ));
            return ExitCode::from(exit::NOTHING_RAN);
        }
    };
    // So is the baseline: a run is not wasted on a file that cannot be read.
    let baseline = match args.baseline.as_deref().map(ecscope::bench::read_report) {
        Some(Ok(report)) => Some(report),
        Some(Err(e)) => {
            eprint_line(format_args!("error: {e}"));
            return ExitCode::from(exit::NOTHING_RAN);
        }
        None => None,
    };
    let options = ecscope::bench::BenchOptions {
        quick: args.quick,
        filter: args.filter,
    };
    let report = match ecscope::bench::run(&options) {
        Ok(report) => report,
        Err(err) => {
            eprint_line(format_args!("error: {err}"));
            return ExitCode::from(1);
        }
    };
    if let Some(file) = json {
        let path = file.path().display().to_string();
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(err) = file.commit(text.as_bytes()) {
            eprint_line(format_args!(
                "error: {path}: cannot write the results: {err}"
            ));
            return ExitCode::from(exit::OUTPUT_FAILED);
        }
    }
    if let Err(err) = print_line(format_args!("{}", report.table())) {
        return if err.kind() == std::io::ErrorKind::BrokenPipe {
            eprint_line(format_args!(
                "{STDOUT}: closed by its reader (broken pipe) while writing the table"
            ));
            ExitCode::from(exit::BROKEN_PIPE)
        } else {
            eprint_line(format_args!(
                "error: {STDOUT}: cannot write the table: {err}"
            ));
            ExitCode::from(exit::OUTPUT_FAILED)
        };
    }
    let Some(baseline) = baseline else {
        return ExitCode::SUCCESS;
    };
    let compared = ecscope::bench::compare(&baseline, &report);
    if compared.is_empty() {
        eprint_line(format_args!(
            "note: {} shares no benchmark (name and unit) with this run: nothing was compared",
            args.baseline.as_deref().unwrap_or(Path::new("")).display()
        ));
    }
    let regressed: Vec<_> = compared.iter().filter(|c| c.regressed()).collect();
    let mut lines = vec![format!(
        "\ncompared with {}: {} benchmarks, {} worse beyond the noise",
        args.baseline.as_deref().unwrap_or(Path::new("")).display(),
        compared.len(),
        regressed.len()
    )];
    lines.extend(
        regressed
            .iter()
            .map(|c| format!("regression: {}", c.describe())),
    );
    for line in lines {
        if let Err(err) = print_line(format_args!("{line}")) {
            eprint_line(format_args!(
                "error: {STDOUT}: cannot write the comparison: {err}"
            ));
            return ExitCode::from(exit::OUTPUT_FAILED);
        }
    }
    if args.fail_on_regression && !regressed.is_empty() {
        ExitCode::from(exit::OVER_BUDGET)
    } else {
        ExitCode::SUCCESS
    }
}

/// Set in the window's own process by its supervisor.
#[cfg(feature = "gui")]
const SUPERVISED: &str = "ECSCOPE_SUPERVISED_BY";

/// Mesa's software rasterizer's thread count.
#[cfg(feature = "gui")]
const SOFTWARE_RASTER_THREADS: &str = "LP_NUM_THREADS";

#[cfg(feature = "gui")]
fn open_gui(cli: Cli) -> ExitCode {
    // The window runs in a child process watched by this one: a crash in
    // native code that a script reached (or an abort) ends the child, and
    // this process opens the window again on the same project. Screenshots
    // run unsupervised, as they are scripted.
    match std::env::var_os(SUPERVISED) {
        None if cli.screenshot.is_none() => return supervise(),
        Some(notes) => {
            if let Err(e) = ecscope::crash::install_file(std::path::Path::new(&notes)) {
                eprint_line(format_args!("note: crashes will not be reported: {e}"));
            }
        }
        None => {}
    }
    let options = ecscope::gui::GuiOptions {
        project: cli.project,
        screenshot: cli.screenshot,
        steps: cli.steps,
        select: cli.select,
        panel: cli.panel,
        coroutine: cli.coroutine,
        restricted: cli.restricted,
        after_crash: cli.after_crash,
    };
    match ecscope::gui::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprint_line(format_args!("error: {err}"));
            ExitCode::from(exit::NOTHING_RAN)
        }
    }
}

/// Runs the window in a child process and opens it again after a crash, on
/// the project it had open, saying what crashed. A window that crashes again
/// within seconds of a restart is not restarted again.
#[cfg(feature = "gui")]
fn supervise() -> ExitCode {
    use std::time::{Duration, Instant};
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprint_line(format_args!("error: cannot start the window: {e}"));
            return ExitCode::from(exit::NOTHING_RAN);
        }
    };
    let notes = std::env::temp_dir().join(format!("ecscope-window-{}.txt", std::process::id()));
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut restarted = false;
    loop {
        let _ = std::fs::remove_file(&notes);
        let started = Instant::now();
        let mut window = std::process::Command::new(&exe);
        window.args(&args).env(SUPERVISED, &notes);
        // Where the window is drawn in software (Mesa's llvmpipe: no GPU,
        // or a virtual display), its rasterizer starts a thread per core,
        // and they take CPU from the simulation's thread. One is enough for
        // the window; a GPU driver ignores the variable.
        if std::env::var_os(SOFTWARE_RASTER_THREADS).is_none() {
            window.env(SOFTWARE_RASTER_THREADS, "1");
        }
        let status = window.status();
        let status = match status {
            Ok(status) => status,
            Err(e) => {
                eprint_line(format_args!("error: cannot start the window: {e}"));
                return ExitCode::from(exit::NOTHING_RAN);
            }
        };
        if let Some(code) = status.code() {
            let _ = std::fs::remove_file(&notes);
            return ExitCode::from(u8::try_from(code).unwrap_or(1));
        }
        let (project, crash) = ecscope::crash::read_notes(&notes);
        let _ = std::fs::remove_file(&notes);
        let message = crash.unwrap_or_else(|| format!("ECScope stopped unexpectedly ({status})"));
        eprint_line(format_args!("error: {message}"));
        if restarted && started.elapsed() < Duration::from_secs(10) {
            eprint_line(format_args!(
                "error: the window crashed again right after it was restarted; not restarting it again"
            ));
            return ExitCode::from(exit::SCRIPT_ERROR);
        }
        eprint_line(format_args!("note: restarting the window"));
        args.clear();
        if let Some((root, restricted)) = project {
            args.push(root.into_os_string());
            if restricted {
                args.push("--restricted".into());
            }
        }
        args.push("--after-crash".into());
        args.push(message.into());
        restarted = true;
    }
}

#[cfg(not(feature = "gui"))]
fn open_gui(_cli: Cli) -> ExitCode {
    eprint_line(format_args!(
        "error: this build of ECScope has no GUI (built without the `gui` feature); use `ecscope run PROJECT_DIR --frames N`"
    ));
    ExitCode::from(exit::NOTHING_RAN)
}
