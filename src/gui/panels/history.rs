//! The open script's version history, beside the editor: every stored
//! version newest first (time, status, what made it, its error), a diff of
//! each against the editor's text, and a Rollback button for each.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::gui::theme;
use crate::hot_reload::diff::{Change, DiffLine, diff_lines};
use crate::hot_reload::history::{Version, VersionStatus, hash_text};
use crate::runtime::session::{SessionCommand, Snapshot};

/// Unchanged lines shown around each change in a diff.
const CONTEXT: usize = 3;

/// The history list and its diff window.
#[derive(Debug, Default)]
pub struct HistoryView {
    /// The version whose diff is shown.
    diff_of: Option<(String, u32)>,
    /// The last diff, by version and the hashes of both texts.
    cached: Option<(u32, String, String, Vec<DiffLine>)>,
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAction {
    /// Restore this version's text on disk and reload it.
    Rollback(u32),
}

impl HistoryView {
    /// Renders the versions of `file`; `running` is the version running
    /// now and `current` the editor's text.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        snapshot: &Snapshot,
        file: &str,
        running: Option<u32>,
        current: &str,
        commands: &mut Vec<SessionCommand>,
    ) -> Option<HistoryAction> {
        let mut action = None;
        ui.strong("History");
        let versions = match &snapshot.history {
            Some((script, versions)) if script == file => versions,
            _ if snapshot.at_break.is_some() => {
                ui.weak("The history is read between frames: it shows once the world runs on.");
                return None;
            }
            _ => {
                ui.weak("Loading…");
                return None;
            }
        };
        if versions.is_empty() {
            ui.weak("No stored versions yet: every version that loads is kept here.");
            return None;
        }
        let now = unix_now();
        egui::ScrollArea::vertical()
            .id_salt("history-list")
            .auto_shrink([false; 2])
            .show(ui, |ui| {
                for v in versions.iter().rev() {
                    if let Some(a) = self.row(ui, file, v, running, now, commands) {
                        action = Some(a);
                    }
                    ui.separator();
                }
            });
        if let Some(a) = self.diff_window(ui.ctx(), snapshot, file, current) {
            action = Some(a);
        }
        action
    }

    fn row(
        &mut self,
        ui: &mut egui::Ui,
        file: &str,
        v: &Version,
        running: Option<u32>,
        now: u64,
        commands: &mut Vec<SessionCommand>,
    ) -> Option<HistoryAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            let label = egui::RichText::new(format!("v{}", v.version)).strong();
            ui.label(label);
            if running == Some(v.version) {
                ui.colored_label(theme::SELECTION, "▶ running")
                    .on_hover_text("The version running now");
            }
            let color = match v.status {
                VersionStatus::Loaded => theme::OK,
                VersionStatus::Failed => theme::ERROR,
                VersionStatus::RolledBack => theme::WARNING,
            };
            ui.colored_label(color, v.status.name());
        });
        ui.horizontal(|ui| {
            ui.weak(ago(now, v.time)).on_hover_text(utc(v.time));
            if !v.origin.is_empty() {
                ui.weak(format!("· {}", v.origin));
            }
        });
        if let Some(error) = &v.error {
            // The file is the one shown: "line 11: ..." says enough.
            let short = error
                .strip_prefix(file)
                .and_then(|rest| rest.strip_prefix(':'))
                .map_or_else(|| error.clone(), |rest| format!("line {rest}"));
            ui.add(
                egui::Label::new(
                    egui::RichText::new(short)
                        .small()
                        .monospace()
                        .color(theme::ERROR),
                )
                .wrap(),
            )
            .on_hover_text(error);
        }
        ui.horizontal(|ui| {
            if ui
                .small_button("Diff")
                .on_hover_text("Compare this version with the editor's text")
                .clicked()
            {
                self.diff_of = Some((file.to_string(), v.version));
                commands.push(SessionCommand::LoadVersionText {
                    script: file.to_string(),
                    version: v.version,
                });
            }
            if ui
                .small_button("Rollback")
                .on_hover_text("Write this version's text to the file and reload it")
                .clicked()
            {
                action = Some(HistoryAction::Rollback(v.version));
            }
        });
        action
    }

    fn diff_window(
        &mut self,
        ctx: &egui::Context,
        snapshot: &Snapshot,
        file: &str,
        current: &str,
    ) -> Option<HistoryAction> {
        let (diff_file, version) = self.diff_of.clone()?;
        if diff_file != file {
            self.diff_of = None;
            return None;
        }
        let mut open = true;
        let mut action = None;
        egui::Window::new(format!("{file}: v{version} vs. the editor"))
            .id(egui::Id::new("history-diff"))
            .open(&mut open)
            .default_size([640.0, 480.0])
            .show(ctx, |ui| {
                let old = match &snapshot.version_text {
                    Some((s, n, text)) if s == file && *n == version => text,
                    _ => {
                        ui.weak("Loading…");
                        return;
                    }
                };
                let lines = self.diff(version, old, current);
                let added = lines.iter().filter(|l| l.change == Change::Added).count();
                let removed = lines.iter().filter(|l| l.change == Change::Removed).count();
                ui.horizontal(|ui| {
                    if added + removed == 0 {
                        ui.weak("Same text as the editor.");
                    } else {
                        ui.colored_label(theme::OK, format!("+{added}"));
                        ui.colored_label(theme::ERROR, format!("−{removed}"));
                        ui.weak("lines from this version to the editor's text");
                    }
                    if ui.button(format!("Rollback to v{version}")).clicked() {
                        action = Some(HistoryAction::Rollback(version));
                    }
                });
                ui.separator();
                egui::ScrollArea::both()
                    .auto_shrink([false; 2])
                    .show(ui, |ui| show_diff(ui, lines));
            });
        if !open {
            self.diff_of = None;
        }
        action
    }

    fn diff(&mut self, version: u32, old: &str, current: &str) -> &[DiffLine] {
        let (old_hash, new_hash) = (hash_text(old), hash_text(current));
        let fresh = self
            .cached
            .as_ref()
            .is_some_and(|(v, a, b, _)| *v == version && *a == old_hash && *b == new_hash);
        if !fresh {
            let lines = diff_lines(old, current);
            self.cached = Some((version, old_hash, new_hash, lines));
        }
        &self.cached.as_ref().expect("just set").3
    }
}

/// Changed lines with a few lines of context; long unchanged runs fold.
fn show_diff(ui: &mut egui::Ui, lines: &[DiffLine]) {
    let near_change = |i: usize| {
        let from = i.saturating_sub(CONTEXT);
        let to = (i + CONTEXT + 1).min(lines.len());
        lines[from..to].iter().any(|l| l.change != Change::Same)
    };
    let mut folded = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.change == Change::Same && !near_change(i) {
            folded += 1;
            continue;
        }
        if folded > 0 {
            ui.weak(format!("  … {folded} unchanged lines"));
            folded = 0;
        }
        let (sign, color) = match line.change {
            Change::Same => (" ", ui.visuals().text_color()),
            Change::Added => ("+", theme::OK),
            Change::Removed => ("−", theme::ERROR),
        };
        // The words that changed inside the line stand out.
        let font = egui::TextStyle::Monospace.resolve(ui.style());
        let plain = egui::TextFormat::simple(font.clone(), color);
        let marked = egui::TextFormat {
            background: color.gamma_multiply(0.3),
            ..egui::TextFormat::simple(font, color)
        };
        let mut job = egui::text::LayoutJob::default();
        job.append(&format!("{sign} "), 0.0, plain.clone());
        for (changed, text) in &line.parts {
            let format = if *changed {
                marked.clone()
            } else {
                plain.clone()
            };
            job.append(text, 0.0, format);
        }
        ui.label(job);
    }
    if folded > 0 {
        ui.weak(format!("  … {folded} unchanged lines"));
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// "just now", "5 min ago"...
pub fn ago(now: u64, then: u64) -> String {
    let s = now.saturating_sub(then);
    match s {
        0..60 => "just now".to_string(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86400),
    }
}

/// `2026-11-24 15:31:02 UTC`.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_well() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_795_534_262), "2026-11-24 15:31:02 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(ago(100, 90), "just now");
        assert_eq!(ago(1000, 100), "15 min ago");
        assert_eq!(ago(10_000, 2_800), "2 h ago");
    }
}
