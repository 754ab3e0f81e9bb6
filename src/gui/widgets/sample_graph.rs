//! The sampled flame graph: the scripts' sampled stacks as an icicle, the
//! system, handler or coroutine on top and the functions it called below,
//! each as wide as its share of the samples. Clicking a bar opens its
//! function at its hottest line.

use egui::{Color32, FontId, Rect, Sense, Stroke, pos2, vec2};

use crate::profiling::samples::{FlameNode, SampleSummary};

/// Height of one row of bars.
const ROW: f32 = 18.0;

/// Draws the graph; returns the file and line of a clicked bar.
pub fn sample_graph(ui: &mut egui::Ui, summary: &SampleSummary) -> Option<(String, u32)> {
    let depth = depth_of(&summary.tree);
    let width = ui.available_width().max(100.0);
    let (rect, response) =
        ui.allocate_exact_size(vec2(width, depth as f32 * ROW + 2.0), Sense::click());
    let mut hovered: Option<&FlameNode> = None;
    let pointer = response.hover_pos();
    let painter = ui.painter_at(rect);
    let total = summary.total.max(1) as f32;
    let mut stack = vec![(&summary.tree, rect.left(), 0usize)];
    while let Some((node, left, level)) = stack.pop() {
        let w = node.samples as f32 / total * rect.width();
        if w < 1.0 {
            continue;
        }
        let bar = Rect::from_min_size(
            pos2(left, rect.top() + level as f32 * ROW),
            vec2(w, ROW - 1.0),
        );
        painter.rect_filled(bar, 2.0, color_of(node, level));
        if w > 24.0 {
            let label = if level == 0 {
                format!("all scripts ({} samples)", summary.total)
            } else {
                node.name.clone()
            };
            let galley =
                painter.layout_no_wrap(label, FontId::proportional(12.0), Color32::from_gray(20));
            let clip = painter.with_clip_rect(bar.shrink(2.0));
            clip.galley(
                pos2(bar.left() + 4.0, bar.center().y - galley.size().y / 2.0),
                galley,
                Color32::from_gray(20),
            );
        }
        if pointer.is_some_and(|p| bar.contains(p)) {
            hovered = Some(node);
            painter.rect_stroke(
                bar,
                2.0,
                Stroke::new(1.5, Color32::WHITE),
                egui::StrokeKind::Inside,
            );
        }
        let mut x = left;
        for child in &node.children {
            stack.push((child, x, level + 1));
            x += child.samples as f32 / total * rect.width();
        }
    }
    let node = hovered?;
    let share = 100.0 * node.samples as f32 / total;
    let place = match node.line {
        Some(line) => format!("{}:{line}", node.file),
        None => node.file.clone(),
    };
    let tip = format!(
        "{}\n{place}\n{} samples, {share:.1}% of all{}",
        node.name,
        node.samples,
        if node.line.is_some() {
            "\nClick to open the hottest line"
        } else {
            ""
        }
    );
    let clicked = response.clicked();
    response.on_hover_text_at_pointer(tip);
    if clicked && !node.file.is_empty() {
        return Some((node.file.clone(), node.line.unwrap_or(1)));
    }
    None
}

fn depth_of(node: &FlameNode) -> usize {
    1 + node.children.iter().map(depth_of).max().unwrap_or(0)
}

/// Warm colors for Lua, cool for Python, grey for the root; a little
/// variation by name so that neighbours differ.
fn color_of(node: &FlameNode, level: usize) -> Color32 {
    if level == 0 {
        return Color32::from_gray(160);
    }
    let hash = node
        .name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let v = (hash % 40) as u8;
    if node.file.ends_with(".py") {
        Color32::from_rgb(110 + v, 170 + v / 2, 230)
    } else {
        Color32::from_rgb(235, 150 + v, 70 + v)
    }
}
