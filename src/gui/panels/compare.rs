//! The Profiler's Before / after view: a pinned capture (frames before a
//! reload, frames pinned by hand, or an opened `.puffin`) against the
//! frames recorded since, per scope and per sampled function, slower in red
//! and faster in blue.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::gui::theme;
use crate::profiling::compare::{
    Accumulator, Change, Measure, SampleCounts, compare, measures_where,
};
use crate::profiling::profiler::Frames;
use crate::runtime::session::ProfileData;

/// How often the comparison is worked out again (it unpacks every frame).
const REFRESH: Duration = Duration::from_millis(500);

/// What a pin before a reload is named after: `the reload of
/// scripts/flock.lua (v2)`, or, when a saved module made several scripts
/// reload at once, `the reload of scripts/a.lua (v2) and scripts/b.lua
/// (v3)` (more: `the reload of 3 scripts: …`).
fn reload_label(reloads: &[(String, u32)]) -> String {
    let each: Vec<String> = reloads
        .iter()
        .map(|(script, version)| format!("{script} (v{version})"))
        .collect();
    match each.as_slice() {
        [] => "the pin".to_string(),
        [one] => format!("the reload of {one}"),
        [a, b] => format!("the reload of {a} and {b}"),
        many => format!("the reload of {} scripts: {}", many.len(), many.join(", ")),
    }
}

/// A capture pinned as "before".
pub struct Pinned {
    /// What "after" is counted from: "the reload of scripts/flock.lua
    /// (v3)", "the pin", or a saved capture's path.
    pub label: String,
    before: BTreeMap<String, Measure>,
    /// Live frames with an index from this on are "after"; `None` when
    /// the capture is not of these live frames (a file).
    since: Option<u64>,
    /// The frames since, taken in as they come.
    after: Accumulator,
    /// The comparison, and when it was made.
    cached: Option<(Instant, Vec<Change>)>,
    /// The sampled functions at the pin, when the live frames were
    /// sampled then.
    sampled: Option<Sampled>,
    /// The scripts (and their new versions) whose reload this pin is
    /// before; empty for a pin by hand or a file.
    reloads: Vec<(String, u32)>,
}

/// The sampled functions' side of a pin.
struct Sampled {
    /// Each function's self time per frame up to the pin.
    before: BTreeMap<String, Measure>,
    /// The counts later counts are taken from (without a reloaded
    /// script's, which the runtime forgets at its reload).
    base: SampleCounts,
    /// The comparison, and when it was made.
    cached: Option<(Instant, Vec<Change>)>,
}

impl Sampled {
    /// The live samples in `profile` as "before", with the calls' times
    /// `scopes`; `reloaded` is the script whose samples the runtime
    /// forgets with this pin.
    fn pin(
        profile: &ProfileData,
        scopes: &BTreeMap<String, Measure>,
        reloaded: Option<&str>,
    ) -> Option<Sampled> {
        if profile.sample_hz == 0 || profile.sampled_frames == 0 {
            return None;
        }
        let counts = SampleCounts::of(&profile.folded, profile.sampled_frames);
        Some(Sampled {
            before: counts.functions(Some(profile.sample_hz), scopes),
            base: match reloaded {
                Some(script) => counts.without_script(script),
                None => counts,
            },
            cached: None,
        })
    }

    /// The comparison with the samples since, whose calls took `scopes`.
    fn changes(&mut self, profile: &ProfileData, scopes: &BTreeMap<String, Measure>) -> &[Change] {
        let stale = self
            .cached
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= REFRESH);
        if stale {
            let now = SampleCounts::of(&profile.folded, profile.sampled_frames);
            let since = now.since(&self.base);
            // Until samples since the pin arrive (the profile is rebuilt a
            // few times a second), there is nothing to compare.
            let changes = if since.frames == 0 || since.stacks.is_empty() {
                Vec::new()
            } else {
                compare(
                    &self.before,
                    &since.functions(Some(profile.sample_hz), scopes),
                )
            };
            self.cached = Some((Instant::now(), changes));
        }
        self.cached.as_ref().map_or(&[], |(_, c)| c.as_slice())
    }
}

impl Pinned {
    /// The live frames before frame `since` (all of them without it) as
    /// "before"; the frames from `since` on (or recorded after now) are
    /// "after". The sampled functions so far are "before" too;
    /// `reloaded` names the script whose samples the runtime forgets now.
    pub fn live(
        profile: &ProfileData,
        label: String,
        since: Option<u64>,
        reloaded: Option<&str>,
    ) -> Option<Pinned> {
        let view = profile.frames.lock().ok()?;
        let last = view.latest_frame().map(|f| f.meta().frame_index);
        let since = since.or(last.map(|l| l + 1)).unwrap_or(0);
        let before = measures_where(&view, |i| i < since);
        let sampled = Sampled::pin(profile, &before, reloaded);
        (!before.is_empty()).then_some(Pinned {
            label,
            before,
            since: Some(since),
            after: Accumulator::default(),
            cached: None,
            sampled,
            reloads: Vec::new(),
        })
    }

    /// The live frames before frame `frame`, where `script` was reloaded
    /// to `version`, as "before".
    pub fn before_reload(
        profile: &ProfileData,
        script: &str,
        version: u32,
        frame: u64,
    ) -> Option<Pinned> {
        let reloads = vec![(script.to_string(), version)];
        let mut pin = Pinned::live(profile, reload_label(&reloads), Some(frame), Some(script))?;
        pin.reloads = reloads;
        Some(pin)
    }

    /// Whether this pin is of the live frames before frame `frame`.
    pub fn is_before(&self, frame: u64) -> bool {
        self.since == Some(frame)
    }

    /// Another script reloaded with the one this pin is of (a module
    /// they share was saved): its samples start over too, and the pin is
    /// named after all of them.
    pub fn also_reloaded(&mut self, script: &str, version: u32) {
        self.reloads.push((script.to_string(), version));
        self.label = reload_label(&self.reloads);
        if let Some(sampled) = &mut self.sampled {
            sampled.base = sampled.base.without_script(script);
            sampled.cached = None;
        }
    }

    /// A saved capture as "before"; every live frame is "after".
    pub fn file(view: &puffin::FrameView, label: String) -> Pinned {
        Pinned {
            label,
            before: crate::profiling::compare::measures(view),
            since: None,
            after: Accumulator::default(),
            cached: None,
            sampled: None,
            reloads: Vec::new(),
        }
    }

    /// The comparison with the live frames after the pin, worked out again
    /// every half second.
    pub fn changes(&mut self, frames: &Frames) -> &[Change] {
        let stale = self
            .cached
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= REFRESH);
        if stale && let Ok(view) = frames.lock() {
            let since = self.since.unwrap_or(0);
            self.after.add(&view, |i| i >= since);
            self.cached = Some((
                Instant::now(),
                compare(&self.before, &self.after.measures()),
            ));
        }
        self.cached.as_ref().map_or(&[], |(_, c)| c.as_slice())
    }
}

/// What the headline says when no script's scope changed beyond the noise.
pub const NO_CHANGE: &str = "No script's time changed beyond the noise";

/// The most telling change among the scripts' scopes: `steer: 2.30×
/// faster`, for the line above the table.
pub fn headline(changes: &[Change]) -> Option<String> {
    changes
        .iter()
        .filter(|c| c.name.contains(".lua:") || c.name.contains(".py:"))
        .find(|c| c.significant && c.before.is_some() && c.after.is_some())
        .map(|c| {
            let short = c.name.rsplit_once(':').map_or(c.name.as_str(), |(_, n)| n);
            format!("{short}: {}", c.verdict())
        })
}

/// Shows the view.
pub fn show(ui: &mut egui::Ui, pinned: &mut Option<Pinned>, profile: &ProfileData) {
    let frames = &profile.frames;
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("📌 Pin these frames as before")
            .on_hover_text("Compare the frames recorded from now on with the ones recorded so far. A saved script pins by itself; File › Open profile… and then Pin as before uses a saved capture.")
            .clicked()
        {
            *pinned = Pinned::live(profile, "the pin".into(), None, None);
        }
        if pinned.is_some() && ui.button("Unpin").clicked() {
            *pinned = None;
        }
    });
    let Some(pin) = pinned.as_mut() else {
        ui.weak("Nothing is pinned: save a script (the frames before the reload are pinned), or pin the frames recorded so far.");
        return;
    };
    let label = pin.label.clone();
    let before_frames = pin.before.get("frame").map_or(0, |m| m.frames);
    let changes = pin.changes(frames).to_vec();
    let after_frames = changes
        .iter()
        .find(|c| c.name == "frame")
        .and_then(|c| c.after)
        .map_or(0, |m| m.frames);
    ui.label(format!(
        "Before: {before_frames} frames up to {label}. After: {after_frames} frames since."
    ));
    if after_frames == 0 {
        ui.weak("No frames recorded since the pin yet: let the project run.");
        return;
    }
    // Always a heading, so that the table does not move as a change
    // crosses the noise.
    match headline(&changes) {
        Some(line) => ui.heading(line),
        None => ui.heading(egui::RichText::new(NO_CHANGE).weak()),
    };
    egui::ScrollArea::both()
        .id_salt("compare-view")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            table(ui, "compare-grid", "Scope", &changes);
            ui.add_space(10.0);
            ui.strong("Sampled functions (self time)");
            match pin.sampled.as_mut() {
                Some(sampled) => {
                    ui.weak("The time each function ran its own lines, in ms per frame: each call's measured time, divided as its sampled stacks divide. A count of n samples is uncertain by about √n, which sets the noise.");
                    let scopes = pin.after.measures();
                    let functions = sampled.changes(profile, &scopes).to_vec();
                    if functions.is_empty() {
                        ui.weak("No samples since the pin yet: let the project run.");
                    } else {
                        table(ui, "compare-functions", "Function", &functions);
                    }
                }
                None => {
                    ui.weak("No sampled stacks were pinned: sampling was off or had not run yet (Profiler › Sampled stacks sets the rate), or the capture is a saved file.");
                }
            }
        });
}

/// One comparison as a table, slower in red and faster in blue.
fn table(ui: &mut egui::Ui, id: &str, what: &str, changes: &[Change]) {
    egui::Grid::new(id)
        .striped(true)
        .num_columns(6)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for head in [what, "Before ms", "After ms", "Change ms", "Ratio", ""] {
                ui.strong(head);
            }
            ui.end_row();
            let ms = |m: Option<Measure>| m.map_or("-".into(), |m| format!("{:.3}", m.mean_ms));
            for c in changes {
                ui.label(&c.name);
                ui.monospace(ms(c.before));
                ui.monospace(ms(c.after));
                ui.monospace(format!("{:+.3}", c.change_ms));
                ui.monospace(c.ratio.map_or("-".into(), |r| format!("{r:.2}")));
                let color = match c.ratio {
                    _ if !c.significant => theme::INFO,
                    Some(r) if r < 1.0 => theme::LOCATION,
                    _ if c.after.is_none() => theme::LOCATION,
                    _ => theme::ERROR,
                };
                ui.colored_label(color, c.verdict());
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::reload_label;

    #[test]
    fn a_pin_before_a_reload_names_every_script_that_reloaded_with_it() {
        let r = |s: &str, v| (s.to_string(), v);
        assert_eq!(
            reload_label(&[r("scripts/flock.lua", 2)]),
            "the reload of scripts/flock.lua (v2)"
        );
        assert_eq!(
            reload_label(&[r("scripts/flock.lua", 2), r("scripts/spawn.lua", 3)]),
            "the reload of scripts/flock.lua (v2) and scripts/spawn.lua (v3)"
        );
        assert_eq!(
            reload_label(&[r("a.lua", 2), r("b.lua", 2), r("c.py", 4)]),
            "the reload of 3 scripts: a.lua (v2), b.lua (v2), c.py (v4)"
        );
    }
}
