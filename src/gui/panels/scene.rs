//! The scene: every entity with a `Position`, drawn with its `Shape`,
//! `Color` and `Rotation`; pan by dragging, zoom with the wheel, click to
//! select, hover for the name.
//!
//! Entities outside the view are skipped. Up to a few thousand are drawn
//! as egui shapes with anti-aliased edges; beyond that, as one mesh of
//! plain triangles built here, since at 100,000 entities per-shape
//! tessellation costs more than the whole rest of the GUI. Entities
//! smaller than a pixel or two are painted as dots into one image.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape as EShape, Stroke, Vec2, pos2, vec2};

use super::PanelCtx;
use crate::gui::theme;
use crate::runtime::components::ShapeKind;
use crate::runtime::session::SessionCommand;
use crate::runtime::view::EntityRow;

/// Pixels on screen within which a click picks an entity.
const PICK_RADIUS: f32 = 8.0;

/// Camera and display options of the scene.
pub struct ScenePanel {
    /// World point at the centre of the view.
    center: [f64; 2],
    /// Pixels per world unit.
    zoom: f32,
    /// Set when the view should frame every entity on the next snapshot.
    fit_pending: bool,
    /// While true (until the user pans or zooms) the view frames the world
    /// again whenever its size changes, e.g. as the layout settles.
    auto_fit: bool,
    /// The view's size at the last fit.
    fitted_size: egui::Vec2,
    /// Entities drawn in the last frame (for the status line).
    drawn: usize,
    /// The image tiny entities are painted into, reused from frame to frame.
    dots_texture: Option<egui::TextureHandle>,
}

impl std::fmt::Debug for ScenePanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenePanel")
            .field("center", &self.center)
            .field("zoom", &self.zoom)
            .field("drawn", &self.drawn)
            .finish_non_exhaustive()
    }
}

/// Entities a few pixels across, painted as squares into an image the size
/// of the view (in physical pixels).
struct Dots {
    image: egui::ColorImage,
    origin: Pos2,
    pixels_per_point: f32,
    any: bool,
}

impl Dots {
    fn new(rect: Rect, pixels_per_point: f32) -> Dots {
        let w = (rect.width() * pixels_per_point).ceil().max(1.0) as usize;
        let h = (rect.height() * pixels_per_point).ceil().max(1.0) as usize;
        Dots {
            image: egui::ColorImage::filled([w, h], Color32::TRANSPARENT),
            origin: rect.min,
            pixels_per_point,
            any: false,
        }
    }

    /// A square of `half` points around `p`, clipped to the image.
    fn square(&mut self, p: Pos2, half: f32, color: Color32) {
        let [w, h] = self.image.size;
        let to_px = |v: f32, origin: f32| (v - origin) * self.pixels_per_point;
        let x0 = to_px(p.x - half, self.origin.x).round().max(0.0) as usize;
        let y0 = to_px(p.y - half, self.origin.y).round().max(0.0) as usize;
        let x1 = (to_px(p.x + half, self.origin.x).round().max(0.0) as usize).min(w);
        let y1 = (to_px(p.y + half, self.origin.y).round().max(0.0) as usize).min(h);
        for y in y0..y1 {
            self.image.pixels[y * w + x0.min(x1)..y * w + x1].fill(color);
        }
        self.any |= x0 < x1 && y0 < y1;
    }
}

impl Default for ScenePanel {
    fn default() -> Self {
        ScenePanel {
            center: [0.0, 0.0],
            zoom: 4.0,
            fit_pending: true,
            auto_fit: true,
            fitted_size: egui::Vec2::ZERO,
            drawn: 0,
            dots_texture: None,
        }
    }
}

impl ScenePanel {
    /// Frames every entity on the next snapshot (after opening a project).
    pub fn fit_on_next(&mut self) {
        self.fit_pending = true;
        self.auto_fit = true;
    }

    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, show_names: &mut bool) {
        let Some(snapshot) = ctx.snapshot else {
            super::no_project(ui);
            return;
        };
        let rows = &snapshot.view.entities;
        ui.horizontal(|ui| {
            if ui
                .button("Fit")
                .on_hover_text("Frame every entity")
                .clicked()
            {
                self.fit_pending = true;
            }
            ui.checkbox(show_names, "Names");
            ui.weak(format!(
                "{} drawn · zoom {:.2} px/unit · drag to pan, wheel to zoom, click to select",
                self.drawn, self.zoom
            ));
        });
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        let rect = response.rect;
        if self.auto_fit && (rect.size() - self.fitted_size).length() > 2.0 {
            self.fit_pending = true;
        }
        // Until the user moves the view, it widens to keep every entity in
        // sight (a project that spawns everything at one point and spreads
        // it out would otherwise stay zoomed on that point).
        if self.auto_fit && !self.fit_pending {
            let outside = rows.iter().any(|r| {
                r.position
                    .is_some_and(|p| !rect.contains(self.to_screen(rect, p)))
            });
            self.fit_pending = outside;
        }
        if self.fit_pending && rows.iter().any(|r| r.position.is_some()) {
            self.fit(rows, rect);
            self.fit_pending = false;
            self.fitted_size = rect.size();
        }

        if response.dragged() {
            self.auto_fit = false;
            let d = response.drag_delta();
            self.center[0] -= (d.x / self.zoom) as f64;
            self.center[1] += (d.y / self.zoom) as f64;
        }
        if response.hovered() {
            let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = pinch * (scroll / 200.0).exp();
            if (factor - 1.0).abs() > 1e-4
                && let Some(pointer) = response.hover_pos()
            {
                self.auto_fit = false;
                let before = self.to_world(rect, pointer);
                self.zoom = (self.zoom * factor).clamp(0.01, 2000.0);
                let after = self.to_world(rect, pointer);
                self.center[0] += before[0] - after[0];
                self.center[1] += before[1] - after[1];
            }
        }

        painter.rect_filled(rect, 0.0, theme::SCENE_BACKGROUND);
        self.draw_grid(&painter, rect);
        let bodies_slot = painter.add(EShape::Noop);
        let dots_slot = painter.add(EShape::Noop);

        let mut drawn = 0;
        let visible = rect.expand(40.0);
        // Few entities get egui's anti-aliased shapes; many, one plain mesh.
        let shown = rows.iter().filter(|r| r.position.is_some()).count();
        let mut bodies = Bodies::new(shown <= FINE_SHAPES);
        let mut dots = Dots::new(rect, ui.ctx().pixels_per_point());
        for row in rows.iter() {
            let Some(position) = row.position else {
                continue;
            };
            let p = self.to_screen(rect, position);
            if !visible.contains(p) {
                continue;
            }
            drawn += 1;
            let half = self.push_body(&mut bodies, &mut dots, row, p);
            if *ctx.selected == Some(row.id) {
                painter.circle_stroke(p, half + 4.0, Stroke::new(2.0, theme::SELECTION));
            }
            if *show_names && let Some(label) = &row.name {
                painter.text(
                    p + vec2(0.0, -half - 3.0),
                    Align2::CENTER_BOTTOM,
                    label,
                    FontId::proportional(11.0),
                    Color32::from_gray(210),
                );
            }
        }
        // Bodies under outlines and names: the mesh goes first.
        painter.set(bodies_slot, bodies.into_shape());
        if dots.any {
            let texture = match &mut self.dots_texture {
                Some(texture) => {
                    texture.set(dots.image, egui::TextureOptions::NEAREST);
                    texture
                }
                None => self.dots_texture.insert(ui.ctx().load_texture(
                    "scene-dots",
                    dots.image,
                    egui::TextureOptions::NEAREST,
                )),
            };
            painter.set(
                dots_slot,
                EShape::image(
                    texture.id(),
                    rect,
                    Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                    Color32::WHITE,
                ),
            );
        }
        self.drawn = drawn;

        let hovered = response
            .hover_pos()
            .and_then(|pointer| self.pick(rows, rect, pointer));
        if let Some(row) = hovered {
            response.clone().on_hover_ui_at_pointer(|ui| {
                ui.strong(row.label());
                ui.weak(format!("entity {}", row.id));
            });
        }
        if response.clicked() {
            let picked = response
                .interact_pointer_pos()
                .and_then(|pointer| self.pick(rows, rect, pointer))
                .map(|row| row.id);
            if picked != *ctx.selected {
                *ctx.selected = picked;
                ctx.commands.push(SessionCommand::Inspect(picked));
            }
        }
    }

    fn fit(&mut self, rows: &[EntityRow], rect: Rect) {
        let (mut min, mut max) = ([f64::MAX; 2], [f64::MIN; 2]);
        for row in rows {
            let Some(p) = row.position else {
                continue;
            };
            let half = row.shape.map_or(0.5, |s| s.1 / 2.0);
            for k in 0..2 {
                min[k] = min[k].min(p[k] - half);
                max[k] = max[k].max(p[k] + half);
            }
        }
        self.center = [(min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0];
        let span_x = ((max[0] - min[0]) as f32).max(1.0);
        let span_y = ((max[1] - min[1]) as f32).max(1.0);
        self.zoom = (rect.width() * 0.85 / span_x)
            .min(rect.height() * 0.85 / span_y)
            .clamp(0.01, 200.0);
    }

    fn to_screen(&self, rect: Rect, p: [f64; 2]) -> Pos2 {
        let c = rect.center();
        pos2(
            c.x + ((p[0] - self.center[0]) as f32) * self.zoom,
            c.y - ((p[1] - self.center[1]) as f32) * self.zoom,
        )
    }

    fn to_world(&self, rect: Rect, p: Pos2) -> [f64; 2] {
        let c = rect.center();
        [
            self.center[0] + ((p.x - c.x) / self.zoom) as f64,
            self.center[1] - ((p.y - c.y) / self.zoom) as f64,
        ]
    }

    /// The entity nearest to `pointer` within its drawn size or
    /// [`PICK_RADIUS`].
    fn pick<'r>(&self, rows: &'r [EntityRow], rect: Rect, pointer: Pos2) -> Option<&'r EntityRow> {
        let mut best: Option<(&EntityRow, f32)> = None;
        for row in rows {
            let Some(position) = row.position else {
                continue;
            };
            let p = self.to_screen(rect, position);
            let size = row.shape.map_or(1.0, |s| s.1) as f32 * self.zoom / 2.0;
            let d = p.distance(pointer);
            if d <= size.max(PICK_RADIUS) && best.is_none_or(|(_, bd)| d < bd) {
                best = Some((row, d));
            }
        }
        best.map(|(row, _)| row)
    }

    fn draw_grid(&self, painter: &egui::Painter, rect: Rect) {
        // A grid step that stays 40-400 px apart on screen.
        let mut step = 1.0f64;
        while (step as f32) * self.zoom < 40.0 {
            step *= 10.0;
        }
        while (step as f32) * self.zoom > 400.0 {
            step /= 10.0;
        }
        let top_left = self.to_world(rect, rect.left_top());
        let bottom_right = self.to_world(rect, rect.right_bottom());
        let mut x = (top_left[0] / step).floor() * step;
        while x <= bottom_right[0] {
            let sx = self.to_screen(rect, [x, 0.0]).x;
            let color = if x == 0.0 {
                theme::SCENE_AXIS
            } else {
                theme::SCENE_GRID
            };
            painter.line_segment(
                [pos2(sx, rect.top()), pos2(sx, rect.bottom())],
                Stroke::new(1.0, color),
            );
            x += step;
        }
        let mut y = (bottom_right[1] / step).floor() * step;
        while y <= top_left[1] {
            let sy = self.to_screen(rect, [0.0, y]).y;
            let color = if y == 0.0 {
                theme::SCENE_AXIS
            } else {
                theme::SCENE_GRID
            };
            painter.line_segment(
                [pos2(rect.left(), sy), pos2(rect.right(), sy)],
                Stroke::new(1.0, color),
            );
            y += step;
        }
    }

    /// Adds `row`'s body at screen point `p` to `mesh`, or to `dots` when
    /// it is only a few pixels across; returns its half size in points.
    fn push_body(&self, bodies: &mut Bodies, dots: &mut Dots, row: &EntityRow, p: Pos2) -> f32 {
        let color = row.color.map_or(theme::DEFAULT_ENTITY, |c| {
            Color32::from_rgba_unmultiplied(
                (c[0].clamp(0.0, 1.0) * 255.0) as u8,
                (c[1].clamp(0.0, 1.0) * 255.0) as u8,
                (c[2].clamp(0.0, 1.0) * 255.0) as u8,
                (c[3].clamp(0.0, 1.0) * 255.0) as u8,
            )
        });
        let (kind, size) = row.shape.unwrap_or((ShapeKind::Circle, 1.0));
        let true_half = size as f32 * self.zoom / 2.0;
        let half = true_half.max(1.5);
        // Smaller than a couple of pixels, any shape is a dot (drawn a few
        // pixels wide to stay visible): painting dots into one image costs
        // a write per pixel instead of triangles to raster.
        if true_half < 1.0 {
            dots.square(p, half, color);
            return half;
        }
        // Screen y points down, world y up: negate the angle.
        let (sin, cos) = (-(row.rotation as f32)).sin_cos();
        let rotate = |v: Vec2| p + vec2(v.x * cos - v.y * sin, v.x * sin + v.y * cos);
        match kind {
            // Larger circles get more sides as they grow.
            ShapeKind::Circle => {
                let sides = ((half * 1.5) as usize).clamp(8, 48);
                let rim: Vec<Pos2> = (0..sides)
                    .map(|k| {
                        let a = k as f32 / sides as f32 * std::f32::consts::TAU;
                        p + vec2(a.cos() * half, a.sin() * half)
                    })
                    .collect();
                bodies.polygon(color, &rim);
            }
            ShapeKind::Rect => bodies.polygon(
                color,
                &[
                    vec2(-half, -half),
                    vec2(half, -half),
                    vec2(half, half),
                    vec2(-half, half),
                ]
                .map(rotate),
            ),
            ShapeKind::Triangle => bodies.polygon(
                color,
                &[
                    vec2(half * 1.3, 0.0),
                    vec2(-half, half * 0.8),
                    vec2(-half, -half * 0.8),
                ]
                .map(rotate),
            ),
        }
        half
    }
}

/// Up to this many entities are drawn as separate egui shapes, with
/// anti-aliased edges; more go into one mesh.
const FINE_SHAPES: usize = 5_000;

/// Where entity bodies are drawn: egui shapes (anti-aliased, tessellated
/// one by one) or one mesh of plain triangles.
enum Bodies {
    Shapes(Vec<EShape>),
    Mesh(egui::Mesh),
}

impl Bodies {
    fn new(fine: bool) -> Bodies {
        if fine {
            Bodies::Shapes(Vec::new())
        } else {
            Bodies::Mesh(egui::Mesh::default())
        }
    }

    /// A filled convex polygon.
    fn polygon(&mut self, color: Color32, corners: &[Pos2]) {
        match self {
            Bodies::Shapes(shapes) => {
                shapes.push(EShape::convex_polygon(
                    corners.to_vec(),
                    color,
                    Stroke::NONE,
                ));
            }
            Bodies::Mesh(mesh) => fan(mesh, color, corners),
        }
    }

    fn into_shape(self) -> EShape {
        match self {
            Bodies::Shapes(shapes) => EShape::Vec(shapes),
            Bodies::Mesh(mesh) => EShape::mesh(mesh),
        }
    }
}

/// A convex polygon as a fan of triangles from its first corner.
fn fan(mesh: &mut egui::Mesh, color: Color32, corners: &[Pos2]) {
    let base = mesh.vertices.len() as u32;
    for &corner in corners {
        mesh.colored_vertex(corner, color);
    }
    for k in 1..corners.len().saturating_sub(1) as u32 {
        mesh.add_triangle(base, base + k, base + k + 1);
    }
}
