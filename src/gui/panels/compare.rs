//! The Profiler's Before / after view: a pinned capture (frames before a
//! reload, frames pinned by hand, or an opened `.puffin`) against the
//! frames recorded since, per scope, slower in red and faster in blue.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::gui::theme;
use crate::profiling::compare::{Accumulator, Change, Measure, compare, measures_where};
use crate::profiling::profiler::Frames;

/// How often the comparison is worked out again (it unpacks every frame).
const REFRESH: Duration = Duration::from_millis(500);

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
}

impl Pinned {
    /// The live frames before frame `since` (all of them without it) as
    /// "before"; the frames from `since` on (or recorded after now) are
    /// "after".
    pub fn live(frames: &Frames, label: String, since: Option<u64>) -> Option<Pinned> {
        let view = frames.lock().ok()?;
        let last = view.latest_frame().map(|f| f.meta().frame_index);
        let since = since.or(last.map(|l| l + 1)).unwrap_or(0);
        let before = measures_where(&view, |i| i < since);
        (!before.is_empty()).then_some(Pinned {
            label,
            before,
            since: Some(since),
            after: Accumulator::default(),
            cached: None,
        })
    }

    /// A saved capture as "before"; every live frame is "after".
    pub fn file(view: &puffin::FrameView, label: String) -> Pinned {
        Pinned {
            label,
            before: crate::profiling::compare::measures(view),
            since: None,
            after: Accumulator::default(),
            cached: None,
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
pub fn show(ui: &mut egui::Ui, pinned: &mut Option<Pinned>, frames: &Frames) {
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("📌 Pin these frames as before")
            .on_hover_text("Compare the frames recorded from now on with the ones recorded so far. A saved script pins by itself; File › Open profile… and then Pin as before uses a saved capture.")
            .clicked()
        {
            *pinned = Pinned::live(frames, "the pin".into(), None);
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
    let changes = pin.changes(frames);
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
    if let Some(line) = headline(changes) {
        ui.heading(line);
    }
    egui::ScrollArea::both()
        .id_salt("compare-view")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("compare-grid")
                .striped(true)
                .num_columns(6)
                .spacing([14.0, 4.0])
                .show(ui, |ui| {
                    for head in ["Scope", "Before ms", "After ms", "Change ms", "Ratio", ""] {
                        ui.strong(head);
                    }
                    ui.end_row();
                    let ms =
                        |m: Option<Measure>| m.map_or("-".into(), |m| format!("{:.3}", m.mean_ms));
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
        });
}
