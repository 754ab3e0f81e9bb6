//! A code view: syntax-highlighted source with a gutter of line numbers,
//! breakpoints (click to toggle), error markers and the line a script is
//! stopped at. The gutter is painted from the laid-out text's own rows, so
//! markers line up with lines at any font size.

use std::collections::BTreeSet;

use egui::{Align, Align2, Color32, FontId, Rect, Sense, Stroke, TextStyle, pos2, vec2};
use egui_extras::syntax_highlighting::{CodeTheme, highlight};

use crate::gui::theme;

/// What the gutter shows.
#[derive(Debug, Default)]
pub struct Markers<'a> {
    /// Lines with a breakpoint.
    pub breakpoints: Option<&'a BTreeSet<u32>>,
    /// The line a script is stopped at, or a coroutine is suspended at.
    pub current: Option<u32>,
    /// Lines with an error, and the message.
    pub errors: &'a [(u32, String)],
    /// Lines whose breakpoint is off (drawn hollow).
    pub disabled: Option<&'a BTreeSet<u32>>,
    /// Report the name under the pointer (to show its value while
    /// stopped).
    pub hover_names: bool,
    /// A line just shown from elsewhere (a suggestion, a last writer),
    /// marked for a moment.
    pub flash: Option<u32>,
    /// Sampled heat: samples per line, and the samples in all.
    pub heat: Option<(&'a std::collections::BTreeMap<u32, u64>, u64)>,
}

/// What happened in the view this frame.
#[derive(Debug, Default)]
pub struct CodeViewOutput {
    /// The gutter was clicked on this line, or F9 pressed with the cursor
    /// on it.
    pub toggled_breakpoint: Option<u32>,
    /// Ctrl+F10 with the cursor on this line: run to it.
    pub run_to: Option<u32>,
    /// The text was edited.
    pub changed: bool,
    /// The name (`a`, `a.b`) under the pointer, when asked for.
    pub hovered: Option<String>,
}

/// The name around character `index` of `text`: letters, digits, `_`
/// and the dots between them (`pos.x`), up to the character under the
/// pointer.
pub fn name_at(text: &str, index: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    if index >= chars.len() || !is_name(chars[index]) {
        return None;
    }
    // Inside a string on this line (an odd number of quotes before it) is
    // text, not a name.
    let line_start = chars[..index]
        .iter()
        .rposition(|&c| c == '\n')
        .map_or(0, |at| at + 1);
    let quotes = |q: char| chars[line_start..index].iter().filter(|&&c| c == q).count();
    if quotes('"') % 2 == 1 || quotes('\'') % 2 == 1 {
        return None;
    }
    let mut start = index;
    while start > 0 && (is_name(chars[start - 1]) || chars[start - 1] == '.') {
        start -= 1;
    }
    let mut end = index;
    while end + 1 < chars.len() && is_name(chars[end + 1]) {
        end += 1;
    }
    let name: String = chars[start..=end].iter().collect();
    let name = name.trim_start_matches('.').to_string();
    let first = name.chars().next()?;
    (first.is_alphabetic() || first == '_').then_some(name)
}

/// Width of the gutter.
const GUTTER: f32 = 58.0;

/// Shows `text` (editable when `editable`); `scroll_to` brings a line into
/// view once.
pub fn code_view(
    ui: &mut egui::Ui,
    id_salt: &str,
    text: &mut dyn egui::TextBuffer,
    language: &str,
    editable: bool,
    markers: &Markers,
    scroll_to: Option<u32>,
) -> CodeViewOutput {
    let mut output = CodeViewOutput::default();
    let theme = CodeTheme::from_memory(ui.ctx(), ui.style());
    // Code does not wrap: a line stays one line, and the view scrolls.
    let mut layouter = |ui: &egui::Ui, buf: &dyn egui::TextBuffer, _wrap_width: f32| {
        let mut job = highlight(ui.ctx(), ui.style(), &theme, buf.as_str(), language);
        job.wrap.max_width = f32::INFINITY;
        ui.fonts_mut(|f| f.layout_job(job))
    };
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    let lines = text.as_str().lines().count().max(1);
    egui::ScrollArea::both()
        .id_salt(id_salt)
        .auto_shrink([false; 2])
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                let (gutter, gutter_response) = ui.allocate_exact_size(
                    vec2(GUTTER, lines as f32 * row_height + 16.0),
                    Sense::click(),
                );
                let edit = egui::TextEdit::multiline(text)
                    .code_editor()
                    .interactive(editable)
                    .desired_width(f32::INFINITY)
                    .desired_rows(lines)
                    .layouter(&mut layouter)
                    .show(ui);
                output.changed = edit.response.changed();
                if markers.hover_names
                    && let Some(pointer) = edit.response.hover_pos()
                {
                    let cursor = edit.galley.cursor_from_pos(pointer - edit.galley_pos);
                    output.hovered = name_at(text.as_str(), cursor.index);
                }
                // F9 and Ctrl+F10 in the editor act on the cursor's line.
                if edit.response.has_focus()
                    && let Some(range) = edit.cursor_range
                {
                    let line = || {
                        let before = text
                            .as_str()
                            .chars()
                            .take(range.primary.index)
                            .filter(|&c| c == '\n')
                            .count();
                        before as u32 + 1
                    };
                    use crate::gui::shortcuts::{RUN_TO_CURSOR, TOGGLE_BREAKPOINT};
                    if ui.input_mut(|i| i.consume_shortcut(&RUN_TO_CURSOR)) {
                        output.run_to = Some(line());
                    }
                    if ui.input_mut(|i| i.consume_shortcut(&TOGGLE_BREAKPOINT)) {
                        output.toggled_breakpoint = Some(line());
                    }
                }

                // The top and height of each logical line.
                let mut line_rows: Vec<(f32, f32)> = Vec::with_capacity(lines);
                let mut starts_line = true;
                for row in &edit.galley.rows {
                    if starts_line {
                        line_rows.push((edit.galley_pos.y + row.pos.y, row.rect().height()));
                    }
                    starts_line = row.row.ends_with_newline;
                }

                let painter = ui.painter();
                let code_rect = edit.response.rect;
                // Heat is shaded by a line's share of the file's hottest, so
                // the hottest line is always plain to see.
                let hottest = markers
                    .heat
                    .and_then(|(heat, _)| heat.values().copied().max())
                    .unwrap_or(1)
                    .max(1);
                for (index, &(top, height)) in line_rows.iter().enumerate() {
                    let line = index as u32 + 1;
                    let mid = top + height / 2.0;
                    // A band across the line, from the gutter's left to `right`.
                    let band = |right: f32, color: Color32| {
                        let rect =
                            Rect::from_min_max(pos2(gutter.left(), top), pos2(right, top + height));
                        painter.rect_filled(rect, 0.0, color);
                    };
                    if markers.flash == Some(line) {
                        band(
                            code_rect.right(),
                            Color32::from_rgba_unmultiplied(120, 170, 255, 46),
                        );
                    }
                    if let Some((heat, _)) = markers.heat
                        && let Some(&n) = heat.get(&line)
                    {
                        let strength = (n as f32 / hottest as f32).sqrt();
                        band(
                            gutter.right() - 2.0,
                            Color32::from_rgba_unmultiplied(
                                255,
                                90,
                                40,
                                (40.0 + 160.0 * strength) as u8,
                            ),
                        );
                    }
                    if markers.current == Some(line) {
                        band(
                            code_rect.right(),
                            Color32::from_rgba_unmultiplied(255, 214, 10, 38),
                        );
                        painter.text(
                            pos2(gutter.left() + 20.0, mid),
                            Align2::CENTER_CENTER,
                            "▶",
                            FontId::monospace(row_height * 0.8),
                            theme::SELECTION,
                        );
                    }
                    if markers.disabled.is_some_and(|b| b.contains(&line)) {
                        painter.circle_stroke(
                            pos2(gutter.left() + 8.0, mid),
                            (height * 0.28).min(5.0),
                            Stroke::new(1.5, theme::ERROR),
                        );
                    } else if markers.breakpoints.is_some_and(|b| b.contains(&line)) {
                        painter.circle_filled(
                            pos2(gutter.left() + 8.0, mid),
                            (height * 0.28).min(5.0),
                            theme::ERROR,
                        );
                    }
                    let error = markers.errors.iter().any(|(l, _)| *l == line);
                    if error {
                        let band = Rect::from_min_max(
                            pos2(code_rect.left(), top),
                            pos2(code_rect.right(), top + height),
                        );
                        painter.rect_stroke(
                            band,
                            0.0,
                            Stroke::new(1.0, theme::ERROR),
                            egui::StrokeKind::Inside,
                        );
                    }
                    painter.text(
                        pos2(gutter.right() - 8.0, mid),
                        Align2::RIGHT_CENTER,
                        line.to_string(),
                        FontId::monospace(row_height * 0.85),
                        if error {
                            theme::ERROR
                        } else {
                            Color32::from_gray(110)
                        },
                    );
                }

                let line_at = |y: f32| {
                    line_rows
                        .iter()
                        .position(|&(top, height)| y >= top && y < top + height)
                        .map(|i| i as u32 + 1)
                };
                if gutter_response.clicked()
                    && let Some(pos) = gutter_response.interact_pointer_pos()
                {
                    output.toggled_breakpoint = line_at(pos.y);
                }
                if let Some(pos) = gutter_response.hover_pos()
                    && let Some(line) = line_at(pos.y)
                {
                    let messages: Vec<&str> = markers
                        .errors
                        .iter()
                        .filter(|(l, _)| *l == line)
                        .map(|(_, m)| m.as_str())
                        .collect();
                    let sampled = markers
                        .heat
                        .and_then(|(heat, total)| {
                            heat.get(&line).map(|n| {
                                format!(
                                    "\n{n} samples here ({:.1}% of all sampled script time)",
                                    100.0 * *n as f64 / total.max(1) as f64
                                )
                            })
                        })
                        .unwrap_or_default();
                    let tip = if messages.is_empty() {
                        format!("Line {line}: click to toggle a breakpoint{sampled}")
                    } else {
                        messages.join("\n") + &sampled
                    };
                    gutter_response.clone().on_hover_text_at_pointer(tip);
                }
                if let Some(line) = scroll_to
                    && let Some(&(top, height)) = line_rows.get(line.saturating_sub(1) as usize)
                {
                    // The line across the visible width: centred vertically,
                    // and already centred across, so the view does not
                    // slide sideways and hide the gutter.
                    let across = ui.clip_rect().x_range();
                    let target = Rect::from_x_y_ranges(across, top..=top + height);
                    ui.scroll_to_rect_animation(
                        target,
                        Some(Align::Center),
                        egui::style::ScrollAnimation::none(),
                    );
                }
            });
        });
    output
}

#[cfg(test)]
mod tests {
    use super::name_at;

    #[test]
    fn names_under_the_pointer() {
        let text = "local d = pos.x + 1";
        assert_eq!(name_at(text, 6).as_deref(), Some("d"));
        assert_eq!(name_at(text, 10).as_deref(), Some("pos"));
        assert_eq!(name_at(text, 14).as_deref(), Some("pos.x"));
        assert_eq!(name_at(text, 18), None);
        assert_eq!(name_at(text, 7), None);
        assert_eq!(
            name_at("ecs.get(id, \"Position\")", 14),
            None,
            "in a string"
        );
    }
}
