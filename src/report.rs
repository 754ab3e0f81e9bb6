//! `ecscope report DIR --frames N -o report.html`: runs a project headless
//! and writes one self-contained HTML file (no network: styles and charts
//! are inline) with the frame-time chart, the sampled flame graph (an SVG
//! rendered by `inferno`), the systems and functions tables, the
//! suggestions, the memory charts and the budgets.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use crate::headless::{OutputFile, RunError};
use crate::profiling::memory::{Series, SeriesKind};
use crate::profiling::samples::SampleSummary;
use crate::project::Project;
use crate::runtime::budgets::BudgetResult;
use crate::runtime::{EventKind, Runtime};

/// Options of `ecscope report`.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The project folder.
    pub project: PathBuf,
    /// Frames to run.
    pub frames: u64,
    /// Where the HTML goes.
    pub output: PathBuf,
    /// Worker threads, over the manifest's.
    pub threads: Option<u32>,
}

/// What a report run did.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// Frames run.
    pub frames: u64,
    /// Script errors reported.
    pub errors: usize,
    /// The file's size in bytes.
    pub bytes: usize,
    /// Budgets exceeded.
    pub over_budget: usize,
}

/// Runs the project and writes the report (whole, or not at all).
pub fn report(options: &ReportOptions) -> Result<ReportSummary, RunError> {
    if options.frames == 0 {
        return Err(RunError::Arguments(
            "--frames N must be at least 1 for a report".into(),
        ));
    }
    let mut project = Project::open(&options.project)?;
    if let Some(threads) = options.threads {
        project.manifest.runtime.threads = Some(threads);
    }
    let mut file = OutputFile::create(&options.output).map_err(|source| RunError::Output {
        path: options.output.clone(),
        source,
    })?;
    let name = project.manifest.project.name.clone();
    let sampling = project.manifest.profiling.sample_hz > 0;
    let mut runtime = Runtime::open(project);
    if sampling {
        runtime.sample_always();
    }
    let mut errors = Vec::new();
    let mut collect = |runtime: &mut Runtime| {
        for event in runtime.drain_events() {
            if let EventKind::ScriptError(info) = &event.kind {
                errors.push(format!(
                    "frame {}: {}:{}: {}",
                    event.frame,
                    info.file.as_deref().unwrap_or(&info.script),
                    info.line,
                    info.message
                ));
            }
        }
    };
    collect(&mut runtime);
    let mut frame_ms = Vec::with_capacity(options.frames as usize);
    for _ in 0..options.frames {
        let started = Instant::now();
        runtime.step();
        frame_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        collect(&mut runtime);
    }
    let budgets = runtime.budget_results();
    let html = page(&Contents {
        name: &name,
        frame_ms: &frame_ms,
        stats: &runtime.stats_table(),
        suggestions: &runtime.suggestions(),
        samples: &runtime.samples(),
        memory: &runtime.memory_view().series,
        budgets: &budgets,
        errors: &errors,
        machine: &crate::bench::machine(),
    });
    file.write(html.as_bytes())
        .and_then(|()| file.finish())
        .map_err(|source| RunError::Write {
            target: options.output.display().to_string(),
            what: "the report",
            source,
            frames: options.frames,
        })?;
    Ok(ReportSummary {
        frames: options.frames,
        errors: runtime.error_count(),
        bytes: html.len(),
        over_budget: budgets.iter().filter(|b| b.exceeded()).count(),
    })
}

/// What a report shows.
struct Contents<'a> {
    name: &'a str,
    frame_ms: &'a [f64],
    stats: &'a crate::profiling::StatsTable,
    suggestions: &'a [crate::runtime::suggest::Suggestion],
    samples: &'a [(String, u64)],
    memory: &'a [Series],
    budgets: &'a [BudgetResult],
    errors: &'a [String],
    machine: &'a str,
}

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;background:#14161c;color:#d8dbe2}\
h1,h2{font-weight:600}h2{margin-top:32px;border-bottom:1px solid #333;padding-bottom:4px}\
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #2a2d36}\
td:first-child,th:first-child{text-align:left}.over{color:#ff6e64;font-weight:600}.ok{color:#6ec878}\
.weak{color:#8a8f9c}svg{background:#1b1e26;border-radius:4px}code{color:#9cc3ff}";

fn page(c: &Contents<'_>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ECScope report: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>ECScope report: {name}</h1>\n<p class=\"weak\">{frames} frames on {machine}; {errors} script error(s).</p>\n",
        name = esc(c.name),
        frames = c.frame_ms.len(),
        machine = esc(c.machine),
        errors = c.errors.len(),
    );
    budgets(&mut out, c.budgets);
    out.push_str("<h2>Frame time</h2>\n");
    out.push_str(&frame_chart(c.frame_ms, frame_budget(c.budgets)));
    out.push_str("<h2>Flame graph (sampled script stacks)</h2>\n");
    out.push_str(&flame_graph(c.samples));
    systems(&mut out, c.stats);
    functions(&mut out, c.samples);
    suggestions(&mut out, c.suggestions);
    memory(&mut out, c.memory);
    if !c.errors.is_empty() {
        out.push_str("<h2>Script errors</h2>\n<ul>\n");
        for e in c.errors.iter().take(50) {
            let _ = writeln!(out, "<li><code>{}</code></li>", esc(e));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn frame_budget(budgets: &[BudgetResult]) -> Option<f64> {
    budgets
        .iter()
        .find(|b| b.key == "frame_ms")
        .map(|b| b.allowed_ms)
}

fn budgets(out: &mut String, budgets: &[BudgetResult]) {
    out.push_str("<h2>Budgets</h2>\n");
    if budgets.is_empty() {
        out.push_str("<p class=\"weak\">No <code>[budgets]</code> in ecscope.toml.</p>\n");
        return;
    }
    out.push_str("<table><tr><th>Budget</th><th>p95 ms</th><th>Allowed ms</th><th></th></tr>\n");
    for b in budgets {
        let (class, verdict) = match (b.measured_ms, b.exceeded()) {
            (None, _) => ("weak", "not measured"),
            (_, true) => ("over", "over budget"),
            _ => ("ok", "within"),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{verdict}</td></tr>",
            esc(&b.key),
            b.measured_ms.map_or("-".into(), |m| format!("{m:.2}")),
            b.allowed_ms
        );
    }
    out.push_str("</table>\n");
}

/// A line chart of `values` (one per frame), with an optional limit line.
fn line_chart(series: &[(&str, &[f64], &str)], limit: Option<f64>, unit: &str) -> String {
    const W: f64 = 900.0;
    const H: f64 = 220.0;
    const PAD: f64 = 40.0;
    let n = series.iter().map(|s| s.1.len()).max().unwrap_or(0).max(2);
    let top = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .chain(limit)
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.1;
    let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / (n - 1) as f64;
    let y = |v: f64| H - PAD - (H - 2.0 * PAD) * v / top;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">\n\
         <text x=\"4\" y=\"{}\" fill=\"#8a8f9c\" font-size=\"11\">{top:.2} {unit}</text>\
         <text x=\"4\" y=\"{}\" fill=\"#8a8f9c\" font-size=\"11\">0</text>\
         <text x=\"{}\" y=\"{}\" fill=\"#8a8f9c\" font-size=\"11\" text-anchor=\"end\">frame {}</text>\n",
        PAD - 8.0,
        H - PAD,
        W - PAD,
        H - 8.0,
        n - 1
    );
    if let Some(limit) = limit {
        let _ = writeln!(
            svg,
            "<line x1=\"{PAD}\" x2=\"{}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"#ff6e64\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{}\" y=\"{:.1}\" fill=\"#ff6e64\" font-size=\"11\" text-anchor=\"end\">budget {limit} {unit}</text>",
            W - PAD,
            W - PAD,
            y(limit) - 4.0,
            ly = y(limit)
        );
    }
    for (name, values, color) in series {
        // At most about one point a pixel.
        let step = values.len().div_ceil(900).max(1);
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.2\" points=\"{}\"><title>{}</title></polyline>",
            points.join(" "),
            esc(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn frame_chart(frame_ms: &[f64], budget: Option<f64>) -> String {
    let mut sorted = frame_ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |p: f64| {
        sorted
            .get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    let mean = frame_ms.iter().sum::<f64>() / frame_ms.len().max(1) as f64;
    format!(
        "<p>mean {mean:.2} ms · p95 {:.2} ms · max {:.2} ms (wall time of each frame)</p>\n{}",
        at(0.95),
        at(1.0),
        line_chart(&[("frame ms", frame_ms, "#78aaff")], budget, "ms")
    )
}

fn flame_graph(samples: &[(String, u64)]) -> String {
    if samples.is_empty() {
        return "<p class=\"weak\">No samples: sampling is off (<code>[profiling] sample_hz = 0</code>).</p>\n".into();
    }
    let lines: Vec<String> = samples.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let mut options = inferno::flamegraph::Options::default();
    options.title = "Sampled script stacks".into();
    options.count_name = "samples".into();
    options.image_width = Some(1200);
    let mut svg = Vec::new();
    match inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut svg)
    {
        Ok(()) => {
            let text = String::from_utf8_lossy(&svg);
            // The SVG inline, without its XML prologue.
            let start = text.find("<svg").unwrap_or(0);
            format!("<div>{}</div>\n", &text[start..])
        }
        Err(e) => format!(
            "<p class=\"over\">The flame graph could not be drawn: {}</p>\n",
            esc(&e.to_string())
        ),
    }
}

fn systems(out: &mut String, stats: &crate::profiling::StatsTable) {
    let _ = writeln!(
        out,
        "<h2>Systems, handlers and coroutines</h2>\n<p class=\"weak\">The last {} frames: frame {:.2} ms mean, {:.2} p95, {:.2} max.</p>",
        stats.frames, stats.frame_mean_ms, stats.frame_p95_ms, stats.frame_max_ms
    );
    out.push_str("<table><tr><th>Script / call</th><th>Calls</th><th>Total ms</th><th>Mean ms</th><th>p95 ms</th><th>Max ms</th><th>µs/call</th><th>%</th></tr>\n");
    for r in stats.rows.iter().take(100) {
        let kind = r.kind.map_or("", |k| k.name());
        let _ = writeln!(
            out,
            "<tr><td>{}:{} <span class=\"weak\">{kind}</span></td><td>{}</td><td>{:.2}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            esc(&r.script),
            esc(&r.name),
            r.calls,
            r.total_ms,
            r.mean_ms,
            r.p95_ms,
            r.max_ms,
            r.per_call_us,
            r.share * 100.0
        );
    }
    out.push_str("</table>\n");
}

fn functions(out: &mut String, samples: &[(String, u64)]) {
    out.push_str("<h2>Script functions (sampled)</h2>\n");
    let summary = SampleSummary::of(samples);
    if summary.total == 0 {
        out.push_str("<p class=\"weak\">No samples.</p>\n");
        return;
    }
    out.push_str(
        "<table><tr><th>Function</th><th>Hottest line</th><th>Self</th><th>Total</th></tr>\n",
    );
    let share = |n: u64| 100.0 * n as f64 / summary.total as f64;
    for f in summary.functions.iter().take(40) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}:{}</td><td>{:.1}%</td><td>{:.1}%</td></tr>",
            esc(&f.function),
            esc(&f.file),
            f.line,
            share(f.self_samples),
            share(f.total_samples)
        );
    }
    out.push_str("</table>\n");
}

fn suggestions(out: &mut String, suggestions: &[crate::runtime::suggest::Suggestion]) {
    out.push_str("<h2>Suggestions</h2>\n");
    if suggestions.is_empty() {
        out.push_str("<p class=\"weak\">Nothing to suggest.</p>\n");
        return;
    }
    out.push_str("<ul>\n");
    for s in suggestions {
        let _ = writeln!(out, "<li>{}</li>", esc(&s.describe()));
    }
    out.push_str("</ul>\n");
}

fn memory(out: &mut String, series: &[Series]) {
    out.push_str("<h2>Memory</h2>\n");
    let heaps: Vec<&Series> = series
        .iter()
        .filter(|s| s.kind == SeriesKind::Bytes && s.script.is_none())
        .collect();
    if heaps.is_empty() {
        out.push_str("<p class=\"weak\">Memory was not sampled.</p>\n");
        return;
    }
    let colors = ["#78aaff", "#f0aa3c", "#6ec878", "#ff6e64", "#c58cff"];
    let values: Vec<(String, Vec<f64>)> = heaps
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.samples.iter().map(|(_, v)| v / 1_048_576.0).collect(),
            )
        })
        .collect();
    let lines: Vec<(&str, &[f64], &str)> = values
        .iter()
        .zip(colors.iter().cycle())
        .map(|((name, v), color)| (name.as_str(), v.as_slice(), *color))
        .collect();
    out.push_str("<p>");
    for (name, _, color) in &lines {
        let _ = write!(out, "<span style=\"color:{color}\">■ {}</span> ", esc(name));
    }
    out.push_str("(MiB)</p>\n");
    out.push_str(&line_chart(&lines, None, "MiB"));
    for s in series
        .iter()
        .filter(|s| s.kind == SeriesKind::Count && s.script.is_none())
    {
        let _ = writeln!(
            out,
            "<p class=\"weak\">{}: {} now, {} at most</p>",
            esc(&s.name),
            s.current(),
            s.peak
        );
    }
}
