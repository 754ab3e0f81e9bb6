//! The Debug view: what a stop needs, on one screen. The window switches
//! to it when a script stops and back to the panels on Continue: the code
//! at the stopped line, the call stack, the selected frame's variables
//! (expandable and editable), the watch list, every breakpoint (with
//! conditions, hit counts and log messages), data breakpoints, and a
//! console that evaluates in the selected frame. Hovering a name in the
//! code shows its value.

use std::collections::BTreeSet;

use super::PanelCtx;
use crate::gui::editor::Buffers;
use crate::gui::theme;
use crate::gui::widgets::code_view::{Markers, code_view};
use crate::runtime::RuntimeCommand;
use crate::runtime::session::{SessionCommand, Snapshot, StopView};
use crate::scripting::debugger::{BreakpointSpec, HitCondition, Variable};

/// Ids of hover evaluations start here (console ones count from 1).
const HOVER_IDS: u64 = 1 << 40;

/// The lines of `file` whose breakpoint is off.
pub fn disabled_lines(snapshot: &Snapshot, file: &str) -> BTreeSet<u32> {
    snapshot
        .debug
        .breakpoints
        .iter()
        .filter(|b| b.file == file && !b.spec.enabled)
        .map(|b| b.line)
        .collect()
}

/// A breakpoint being edited in the list.
#[derive(Debug, Clone, Default)]
struct BreakpointEdit {
    file: String,
    line: u32,
    enabled: bool,
    condition: String,
    hit_count: String,
    log_message: String,
    /// Why the hit count was refused.
    error: Option<String>,
}

/// A name asked about on hover: the name, the request's id, the answer.
type Hover = (String, u64, Option<Result<Variable, String>>);

/// A console line: what was typed and what came back.
#[derive(Debug, Clone)]
struct ConsoleLine {
    id: u64,
    code: String,
    result: Option<Result<String, String>>,
}

/// State of the Debug view.
#[derive(Debug, Default)]
pub struct DebugPanel {
    watches: Vec<String>,
    watches_sent: Option<Vec<String>>,
    new_watch: String,
    input: String,
    lines: Vec<ConsoleLine>,
    next_id: u64,
    /// The name last asked about on hover, its request, and the answer.
    hover: Option<Hover>,
    expanded: BTreeSet<(usize, String)>,
    /// A value being edited: (frame, expression, is a local's name, text).
    editing: Option<(usize, String, bool, String)>,
    /// The value editor takes the keyboard once, when it opens.
    focus_edit: bool,
    /// The stop the view last showed: what was asked of an older stop
    /// (a hover, an edit) is dropped at a new one.
    stop_seen: Option<u64>,
    breakpoint: Option<BreakpointEdit>,
    data_watch: String,
    data_error: Option<String>,
    /// The stop the code view last scrolled to.
    shown: Option<(String, u32, usize)>,
}

impl DebugPanel {
    /// The watch list.
    pub fn watches(&self) -> &[String] {
        &self.watches
    }

    /// Replaces the watch list (a project's saved one).
    pub fn set_watches(&mut self, watches: Vec<String>) {
        self.watches = watches;
        self.watches_sent = None;
    }

    /// An answer to an evaluation this view asked for.
    pub fn evaluated(&mut self, id: u64, result: Result<Variable, String>) {
        if id >= HOVER_IDS {
            if let Some((_, asked, answer)) = &mut self.hover
                && *asked == id
            {
                *answer = Some(result);
            }
            return;
        }
        if let Some(line) = self.lines.iter_mut().find(|l| l.id == id) {
            line.result = Some(result.map(|v| {
                if v.type_name.is_empty() || v.type_name == "statement" {
                    v.value
                } else {
                    format!("{}  ({})", v.value, v.type_name)
                }
            }));
        }
    }

    /// Starts editing the breakpoint at `file:line` (or a new one).
    pub fn edit_breakpoint(&mut self, snapshot: &Snapshot, file: &str, line: u32) {
        let existing = snapshot
            .debug
            .breakpoints
            .iter()
            .find(|b| b.file == file && b.line == line);
        let spec = existing
            .map(|b| b.spec.clone())
            .unwrap_or_else(BreakpointSpec::plain);
        self.breakpoint = Some(BreakpointEdit {
            file: file.to_string(),
            line,
            enabled: spec.enabled,
            condition: spec.condition.unwrap_or_default(),
            hit_count: spec.hit_count.unwrap_or_default(),
            log_message: spec.log_message.unwrap_or_default(),
            error: None,
        });
    }

    /// Renders the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) -> bool {
        let Some(snapshot) = ctx.snapshot else {
            super::no_project(ui);
            return false;
        };
        let stop = snapshot.at_break.as_ref().map(|b| b.stop);
        if stop != self.stop_seen {
            self.stop_seen = stop;
            self.hover = None;
            self.editing = None;
        }
        if self.watches_sent.as_ref() != Some(&self.watches) {
            ctx.commands
                .push(SessionCommand::SetWatches(self.watches.clone()));
            self.watches_sent = Some(self.watches.clone());
        }
        let mut back = false;
        egui::TopBottomPanel::top("debug-banner").show_inside(ui, |ui| {
            back = banner(ui, snapshot);
        });
        let width = ui.available_width();
        egui::SidePanel::right("debug-side")
            .resizable(true)
            .default_width((width * 0.4).clamp(300.0, 560.0))
            .max_width(width * 0.55)
            .show_inside(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("debug-side-scroll")
                    .auto_shrink([false; 2])
                    .show(ui, |ui| self.side(ui, ctx, snapshot));
            });
        egui::TopBottomPanel::bottom("debug-console")
            .resizable(true)
            .default_height(150.0)
            .show_inside(ui, |ui| self.console(ui, ctx, snapshot));
        egui::CentralPanel::default().show_inside(ui, |ui| self.code(ui, ctx, snapshot));
        back
    }

    fn selected_frame(snapshot: &Snapshot) -> usize {
        snapshot.stop.as_ref().map_or(0, |s| s.frame)
    }

    /// The code of the selected frame, with its line marked.
    fn code(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, snapshot: &Snapshot) {
        let Some(stop) = &snapshot.at_break else {
            ui.weak("Not stopped. The code shows here when a script stops at a breakpoint, a step or an error.");
            return;
        };
        let frame = Self::selected_frame(snapshot);
        let (file, line) = match stop.frames.get(frame) {
            Some(f) if frame > 0 => (f.file.clone(), f.line),
            _ => (stop.file.clone(), stop.line),
        };
        let Some(root) = ctx.project_root else {
            return;
        };
        let mut buffers = match ctx.buffers.take() {
            Some(b) if b.root() == root => b,
            _ => Buffers::new(root),
        };
        ui.horizontal(|ui| {
            ui.strong(&file);
            ui.weak(format!("line {line}"));
            if buffers.open(&file).is_dirty() {
                ui.colored_label(theme::WARNING, "● unsaved");
            }
        });
        let key = (file.clone(), line, frame);
        let scroll = (self.shown.as_ref() != Some(&key)).then_some(line);
        self.shown = Some(key);
        let breakpoints = snapshot.breakpoints.get(&file);
        let disabled = disabled_lines(snapshot, &file);
        let errors = ctx.console.errors_in(&file);
        let language = if file.ends_with(".py") { "py" } else { "lua" };
        let markers = Markers {
            breakpoints,
            current: Some(line),
            errors: &errors,
            disabled: Some(&disabled),
            hover_names: true,
            flash: None,
            heat: None,
        };
        let output = code_view(
            ui,
            &format!("debug-code-{file}"),
            &mut buffers.open(&file).text,
            language,
            true,
            &markers,
            scroll,
        );
        if output.changed {
            buffers.edited(&file);
        }
        if let Some(line) = output.toggled_breakpoint {
            let on = !breakpoints.is_some_and(|b| b.contains(&line));
            ctx.commands
                .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                    file: file.clone(),
                    line,
                    on,
                }));
        }
        if let Some(line) = output.run_to {
            ctx.commands
                .push(SessionCommand::Runtime(RuntimeCommand::RunToLine {
                    file: file.clone(),
                    line,
                }));
        }
        *ctx.buffers = Some(buffers);
        self.hover_value(ui, ctx, frame, output.hovered);
    }

    /// Asks for the value of the hovered name and shows it.
    fn hover_value(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        frame: usize,
        hovered: Option<String>,
    ) {
        let Some(name) = hovered else {
            return;
        };
        if self.hover.as_ref().is_none_or(|(n, _, _)| *n != name) {
            self.next_id += 1;
            let id = HOVER_IDS + self.next_id;
            ctx.commands.push(SessionCommand::Evaluate {
                id,
                frame,
                code: name.clone(),
            });
            self.hover = Some((name, id, None));
        }
        if let Some((name, _, Some(answer))) = &self.hover {
            egui::Tooltip::always_open(
                ui.ctx().clone(),
                ui.layer_id(),
                egui::Id::new("debug-hover"),
                egui::PopupAnchor::Pointer,
            )
            .gap(12.0)
            .show(|ui| match answer {
                Ok(v) => {
                    ui.monospace(format!("{name} = {}", v.value));
                    ui.weak(&v.type_name);
                }
                Err(e) => {
                    ui.weak(format!("{name}: {e}"));
                }
            });
        }
    }

    fn side(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, snapshot: &Snapshot) {
        if let Some(stop) = &snapshot.at_break {
            let selected = Self::selected_frame(snapshot);
            egui::CollapsingHeader::new(egui::RichText::new("Call stack").strong())
                .default_open(true)
                .show(ui, |ui| {
                    for (i, frame) in stop.frames.iter().enumerate() {
                        let text = format!("{}   {}:{}", frame.function, frame.file, frame.line);
                        if ui.selectable_label(selected == i, text).clicked() && selected != i {
                            ctx.commands.push(SessionCommand::SelectFrame(i));
                        }
                    }
                    if stop.frames.is_empty() {
                        ui.weak("The call has returned.");
                    }
                });
            if let Some(view) = &snapshot.stop {
                egui::CollapsingHeader::new(egui::RichText::new("Variables").strong())
                    .default_open(true)
                    .show(ui, |ui| self.variables(ui, ctx, view));
                egui::CollapsingHeader::new(egui::RichText::new("Watch").strong())
                    .default_open(true)
                    .show(ui, |ui| self.watch_list(ui, Some(view)));
            }
        } else {
            ui.weak("Not stopped: the call stack, variables and watches show at the next stop.");
            egui::CollapsingHeader::new(egui::RichText::new("Watch").strong())
                .default_open(true)
                .show(ui, |ui| self.watch_list(ui, None));
        }
        egui::CollapsingHeader::new(egui::RichText::new("Breakpoints").strong())
            .default_open(true)
            .show(ui, |ui| self.breakpoints(ui, ctx, snapshot));
        egui::CollapsingHeader::new(egui::RichText::new("Data breakpoints").strong())
            .default_open(true)
            .show(ui, |ui| self.data_breakpoints(ui, ctx, snapshot));
    }

    fn variables(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, view: &StopView) {
        match &view.locals {
            Ok(locals) if locals.is_empty() => {
                ui.weak("(no locals)");
            }
            Ok(locals) => {
                for v in locals {
                    self.variable(ui, ctx, view, v, true, 0);
                }
            }
            Err(e) => {
                ui.colored_label(theme::ERROR, e);
            }
        }
    }

    /// One value, its children under it when expanded.
    fn variable(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        view: &StopView,
        v: &Variable,
        local: bool,
        depth: usize,
    ) {
        let key = (view.frame, v.expr.clone());
        let open = self.expanded.contains(&key);
        ui.horizontal(|ui| {
            ui.add_space(depth as f32 * 14.0);
            if v.expandable && !v.expr.is_empty() {
                if ui.small_button(if open { "▾" } else { "▸" }).clicked() {
                    if open {
                        self.expanded.remove(&key);
                    } else {
                        self.expanded.insert(key.clone());
                    }
                    ctx.commands.push(SessionCommand::Expand {
                        frame: view.frame,
                        expr: v.expr.clone(),
                        open: !open,
                    });
                }
            } else {
                ui.add_space(18.0);
            }
            ui.monospace(egui::RichText::new(&v.name).color(theme::LOCATION));
            let editing = self
                .editing
                .as_ref()
                .is_some_and(|(f, e, _, _)| *f == view.frame && *e == v.expr);
            if editing {
                let Some((frame, expr, is_local, text)) = self.editing.as_mut() else {
                    return;
                };
                let edit = ui.add(
                    egui::TextEdit::singleline(text)
                        .desired_width(140.0)
                        .font(egui::TextStyle::Monospace),
                );
                // Focused once, when the editing starts: Enter keeps the
                // value, Escape or a click elsewhere drops it.
                if std::mem::take(&mut self.focus_edit) {
                    edit.request_focus();
                }
                let cancel = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if cancel {
                    self.editing = None;
                } else if edit.lost_focus() {
                    if ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        let value = text.trim().to_string();
                        ctx.commands.push(if *is_local {
                            SessionCommand::SetVariable {
                                id: None,
                                frame: *frame,
                                name: expr.clone(),
                                value,
                            }
                        } else {
                            self.next_id += 1;
                            SessionCommand::Evaluate {
                                id: self.next_id,
                                frame: *frame,
                                code: format!("{expr} = {value}"),
                            }
                        });
                    }
                    self.editing = None;
                }
            } else {
                let value = ui
                    .add(
                        egui::Label::new(egui::RichText::new(&v.value).monospace())
                            .sense(egui::Sense::click()),
                    )
                    .on_hover_text(format!(
                        "{} — double-click to change it (a number, \"text\", true or false, or any expression)",
                        v.type_name
                    ));
                if value.double_clicked() && !v.expr.is_empty() {
                    self.editing = Some((view.frame, v.expr.clone(), local, v.value.clone()));
                    self.focus_edit = true;
                }
            }
        });
        if open {
            match view.children.get(&key) {
                Some(Ok(children)) => {
                    for child in children {
                        self.variable(ui, ctx, view, child, false, depth + 1);
                    }
                }
                Some(Err(e)) => {
                    ui.horizontal(|ui| {
                        ui.add_space((depth + 1) as f32 * 14.0 + 18.0);
                        ui.colored_label(theme::ERROR, e);
                    });
                }
                None => {
                    // Asked for; the next snapshot carries it.
                }
            }
        }
    }

    /// The watch list, with values when stopped, and a field to add one.
    fn watch_list(&mut self, ui: &mut egui::Ui, view: Option<&StopView>) {
        let mut remove = None;
        for (i, expr) in self.watches.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui
                    .small_button("✖")
                    .on_hover_text("Remove this watch")
                    .clicked()
                {
                    remove = Some(i);
                }
                ui.monospace(egui::RichText::new(expr).color(theme::LOCATION));
                match view.and_then(|v| v.watches.iter().find(|(w, _)| w == expr)) {
                    Some((_, Ok(v))) => {
                        ui.monospace(&v.value).on_hover_text(&v.type_name);
                    }
                    Some((_, Err(e))) => {
                        ui.colored_label(theme::ERROR, e);
                    }
                    None => {
                        ui.weak("—");
                    }
                }
            });
        }
        if let Some(i) = remove {
            self.watches.remove(i);
        }
        ui.horizontal(|ui| {
            let label = ui.label("+");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.new_watch)
                        .hint_text("add a watch: an expression")
                        .desired_width(200.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Add").clicked() || enter) && !self.new_watch.trim().is_empty() {
                self.watches.push(self.new_watch.trim().to_string());
                self.new_watch.clear();
            }
        });
    }

    fn breakpoints(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, snapshot: &Snapshot) {
        let mut on_error = snapshot.debug.break_on_error;
        if ui
            .checkbox(&mut on_error, "Break on error")
            .on_hover_text(
                "Stop where a system, handler or coroutine raises, with its stack and locals",
            )
            .changed()
        {
            ctx.commands
                .push(SessionCommand::Runtime(RuntimeCommand::SetBreakOnError(
                    on_error,
                )));
        }
        if snapshot.debug.breakpoints.is_empty() {
            ui.weak("No breakpoints. Click left of a line number, or press F9 in the code.");
        }
        for b in snapshot.debug.breakpoints.iter() {
            ui.horizontal(|ui| {
                let mut enabled = b.spec.enabled;
                if ui
                    .checkbox(&mut enabled, "")
                    .on_hover_text("On or off")
                    .changed()
                {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpointSpec {
                            file: b.file.clone(),
                            line: b.line,
                            spec: BreakpointSpec {
                                enabled,
                                ..b.spec.clone()
                            },
                        }));
                }
                if ui
                    .link(format!("{}:{}", b.file, b.line))
                    .on_hover_text("Show the line")
                    .clicked()
                {
                    *ctx.goto = Some((b.file.clone(), b.line));
                }
                let mut parts = Vec::new();
                if let Some(c) = &b.spec.condition {
                    parts.push(format!("if {c}"));
                }
                if let Some(h) = &b.spec.hit_count {
                    parts.push(format!("hits {h}"));
                }
                if let Some(l) = &b.spec.log_message {
                    parts.push(format!("log \"{l}\""));
                }
                if !parts.is_empty() {
                    ui.monospace(parts.join(" · "));
                }
                ui.weak(match b.hits {
                    1 => "1 hit".to_string(),
                    n => format!("{n} hits"),
                });
                if ui.small_button("Edit").clicked() {
                    self.edit_breakpoint(snapshot, &b.file, b.line);
                }
                if ui.small_button("✖").on_hover_text("Remove").clicked() {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                            file: b.file.clone(),
                            line: b.line,
                            on: false,
                        }));
                }
            });
            if let Some(e) = &b.error {
                ui.colored_label(theme::ERROR, format!("   {e}"));
            }
        }
        self.breakpoint_editor(ui, ctx);
    }

    fn breakpoint_editor(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(edit) = self.breakpoint.as_mut() else {
            return;
        };
        let mut close = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.strong(format!("Breakpoint at {}:{}", edit.file, edit.line));
            ui.checkbox(&mut edit.enabled, "On");
            for (label, text, hint) in [
                (
                    "Condition",
                    &mut edit.condition,
                    "stop only when true: hp < 0",
                ),
                ("Hit count", &mut edit.hit_count, "5, >= 5 or % 5"),
                (
                    "Log message",
                    &mut edit.log_message,
                    "logpoint: hp is {hp} (never stops)",
                ),
            ] {
                ui.horizontal(|ui| {
                    let label = ui.add_sized([86.0, 18.0], egui::Label::new(label));
                    ui.add(
                        egui::TextEdit::singleline(text)
                            .hint_text(hint)
                            .font(egui::TextStyle::Monospace),
                    )
                    .labelled_by(label.id);
                });
            }
            if let Some(e) = &edit.error {
                ui.colored_label(theme::ERROR, e);
            }
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    let hits = edit.hit_count.trim();
                    match (!hits.is_empty()).then(|| HitCondition::parse(hits)) {
                        Some(Err(e)) => edit.error = Some(e.to_string()),
                        _ => {
                            let text =
                                |s: &String| Some(s.trim().to_string()).filter(|t| !t.is_empty());
                            ctx.commands.push(SessionCommand::Runtime(
                                RuntimeCommand::SetBreakpointSpec {
                                    file: edit.file.clone(),
                                    line: edit.line,
                                    spec: BreakpointSpec {
                                        enabled: edit.enabled,
                                        condition: text(&edit.condition),
                                        hit_count: text(&edit.hit_count),
                                        log_message: text(&edit.log_message),
                                    },
                                },
                            ));
                            close = true;
                        }
                    }
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.breakpoint = None;
        }
    }

    fn data_breakpoints(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, snapshot: &Snapshot) {
        for d in snapshot.debug.data_breakpoints.iter() {
            ui.horizontal(|ui| {
                if ui.small_button("✖").on_hover_text("Remove").clicked() {
                    ctx.commands.push(SessionCommand::Runtime(
                        RuntimeCommand::RemoveDataBreakpoint { id: d.id },
                    ));
                }
                ui.monospace(d.describe());
            });
            if let Some(e) = &d.error {
                ui.colored_label(theme::ERROR, format!("   {e}; it no longer checks"));
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label("Watch data");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.data_watch)
                        .hint_text("Health.hp < 0")
                        .desired_width(160.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui
                .button("Break when")
                .on_hover_text(
                    "Stop at the script line that makes it true, for any entity (Component.field <op> number, or Component.field changes)",
                )
                .clicked()
                || enter)
                && !self.data_watch.trim().is_empty()
            {
                match crate::scripting::debugger::DataBreakpoint::parse(&self.data_watch, None) {
                    Ok(_) => {
                        ctx.commands
                            .push(SessionCommand::Runtime(RuntimeCommand::AddDataBreakpoint {
                                entity: None,
                                watch: self.data_watch.trim().to_string(),
                            }));
                        self.data_watch.clear();
                        self.data_error = None;
                    }
                    Err(e) => self.data_error = Some(e.to_string()),
                }
            }
        });
        if let Some(e) = &self.data_error {
            ui.colored_label(theme::ERROR, e);
        }
        ui.weak("Or from the Inspector: ● beside a field breaks when it changes.");
    }

    fn console(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx, snapshot: &Snapshot) {
        let frame = Self::selected_frame(snapshot);
        let language = snapshot.at_break.as_ref().map(|b| {
            if b.file.ends_with(".py") {
                "Python"
            } else {
                "Lua"
            }
        });
        let mut title = None;
        ui.horizontal(|ui| {
            title = Some(ui.strong("Debug console").id);
            let function = snapshot
                .at_break
                .as_ref()
                .and_then(|b| b.frames.get(frame))
                .map(|f| f.function.clone())
                .unwrap_or_default();
            match language {
                Some(l) => ui.weak(format!(
                    "{l}, in {function} (the selected call); ecs is there"
                )),
                None => ui.weak("evaluates in the stopped frame"),
            };
            if ui.small_button("Clear").clicked() {
                self.lines.clear();
            }
        });
        let input_height = 28.0;
        egui::ScrollArea::vertical()
            .id_salt("debug-console-lines")
            .max_height((ui.available_height() - input_height).max(30.0))
            .stick_to_bottom(true)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                for line in &self.lines {
                    ui.monospace(
                        egui::RichText::new(format!("> {}", line.code)).color(theme::INFO),
                    );
                    match &line.result {
                        Some(Ok(v)) => {
                            ui.monospace(v);
                        }
                        Some(Err(e)) => {
                            ui.colored_label(theme::ERROR, e);
                        }
                        None => {
                            ui.weak("…");
                        }
                    }
                }
            });
        let mut edit = ui.add(
            egui::TextEdit::singleline(&mut self.input)
                .id_salt("debug-console-input")
                .hint_text("an expression or a statement, then Enter")
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace),
        );
        if let Some(title) = title {
            edit = edit.labelled_by(title);
        }
        if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            let code = self.input.trim().to_string();
            if !code.is_empty() {
                self.next_id += 1;
                ctx.commands.push(SessionCommand::Evaluate {
                    id: self.next_id,
                    frame,
                    code: code.clone(),
                });
                self.lines.push(ConsoleLine {
                    id: self.next_id,
                    code,
                    result: None,
                });
                self.input.clear();
            }
            edit.request_focus();
        }
    }
}

/// The stop's one line: where, why, and the message. True when the user
/// asked for the panels back.
fn banner(ui: &mut egui::Ui, snapshot: &Snapshot) -> bool {
    let mut back = false;
    ui.horizontal_wrapped(|ui| {
        match &snapshot.at_break {
            Some(stop) => {
                let (color, what) = match stop.reason {
                    "error" => (theme::ERROR, "Stopped on an error"),
                    "data" => (theme::WARNING, "Stopped by a data breakpoint"),
                    "step" => (theme::SELECTION, "Stopped after a step"),
                    "cursor" => (theme::SELECTION, "Stopped at the cursor"),
                    _ => (theme::SELECTION, "Stopped at a breakpoint"),
                };
                ui.label(
                    egui::RichText::new(format!(
                        "{what}: {}:{} in {}",
                        stop.file, stop.line, stop.context
                    ))
                    .color(color)
                    .strong(),
                );
                if let Some(message) = &stop.message {
                    ui.label(egui::RichText::new(message).color(color));
                }
                if stop.reason == "error" {
                    ui.weak("Continue lets the error take its course (the system is disabled and reported).");
                }
            }
            None => {
                ui.weak("Running or paused: nothing is stopped.");
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Back to panels")
                .on_hover_text("The usual layout (the Debug view returns at the next stop; View › Debug view)")
                .clicked()
            {
                back = true;
            }
        });
    });
    back
}
