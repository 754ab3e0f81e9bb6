//! Debug › Listen for an editor…: a Debug Adapter Protocol listener on the
//! open project's session, so that VS Code or Neovim attach to what the
//! window runs. A stop shows in both, and either can continue.

use std::sync::{Arc, Mutex};

use crate::dap::{Ended, Listener};
use crate::runtime::session::SessionLinker;

/// The address offered first (SCRIPT_API §6's example).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:4711";

/// The listener and its window.
pub struct EditorLink {
    /// The window is shown.
    pub open: bool,
    address: String,
    listener: Option<Listener>,
    error: Option<String>,
    /// The open project's session, for each client that attaches.
    linker: Arc<Mutex<Option<SessionLinker>>>,
    /// How the last client left, once it has.
    last_left: Option<Ended>,
}

impl Default for EditorLink {
    fn default() -> Self {
        EditorLink {
            open: false,
            address: DEFAULT_ADDRESS.to_string(),
            listener: None,
            error: None,
            linker: Arc::default(),
            last_left: None,
        }
    }
}

impl EditorLink {
    /// The session editors attach to from now on (`None`: no project is
    /// open, and clients are refused). A client attached to the old
    /// session is told the run ended.
    pub fn set_session(&mut self, linker: Option<SessionLinker>) {
        if let Ok(mut slot) = self.linker.lock() {
            *slot = linker;
        }
    }

    /// Starts listening on the typed address.
    pub fn listen(&mut self) {
        let linker = Arc::clone(&self.linker);
        let connect = move || linker.lock().ok()?.as_ref().map(SessionLinker::link);
        match Listener::start(self.address.trim(), connect) {
            Ok(listener) => {
                self.listener = Some(listener);
                self.error = None;
            }
            Err(e) => self.error = Some(format!("cannot listen on {}: {e}", self.address.trim())),
        }
    }

    /// Whether an editor is attached now.
    pub fn attached(&self) -> bool {
        self.listener
            .as_ref()
            .is_some_and(Listener::client_attached)
    }

    /// The address listened on, while listening.
    pub fn listening(&self) -> Option<&str> {
        self.listener.as_ref().map(Listener::address)
    }

    /// The status bar's word on it: nothing unless listening.
    pub fn status(&mut self, ui: &mut egui::Ui) {
        if let Some(left) = self.listener.as_ref().and_then(Listener::take_ended) {
            self.last_left = Some(left);
        }
        let Some(address) = self.listening().map(str::to_string) else {
            return;
        };
        ui.separator();
        let text = if self.attached() {
            egui::RichText::new("editor attached").color(super::theme::INFO)
        } else {
            egui::RichText::new(format!("listening for an editor on {address}")).weak()
        };
        if ui
            .add(egui::Label::new(text).sense(egui::Sense::click()))
            .on_hover_text("Debug › Listen for an editor…")
            .clicked()
        {
            self.open = true;
        }
    }

    /// The window: the address, start and stop, and how to attach.
    pub fn window(&mut self, ctx: &egui::Context) {
        if !self.open {
            return;
        }
        let mut open = true;
        egui::Window::new("Listen for an editor")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label("An editor (VS Code, Neovim) attaches here with the Debug Adapter Protocol and debugs the scripts this window runs. A stop shows in both, and either can continue.");
                ui.add_space(4.0);
                match self.listening().map(str::to_string) {
                    None => {
                        ui.horizontal(|ui| {
                            let label = ui.label("Address");
                            let edit = ui
                                .add(egui::TextEdit::singleline(&mut self.address).desired_width(180.0))
                                .labelled_by(label.id);
                            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                            if ui.button("Start listening").clicked() || enter {
                                self.listen();
                            }
                        });
                        if let Some(error) = &self.error {
                            ui.colored_label(super::theme::ERROR, error);
                        }
                    }
                    Some(address) => {
                        ui.horizontal(|ui| {
                            if self.attached() {
                                ui.colored_label(super::theme::INFO, format!("An editor is attached on {address}."));
                            } else {
                                ui.label(format!("Listening on {address}: no editor yet."));
                            }
                            if ui.button("Stop listening").clicked() {
                                self.listener = None;
                            }
                        });
                        if self.last_left.is_some() && !self.attached() {
                            ui.weak("The last editor left: its breakpoints are gone and the world runs on.");
                        }
                        let port = address.rsplit(':').next().unwrap_or("4711").to_string();
                        ui.add_space(4.0);
                        ui.label("In VS Code, with editors/vscode installed, add to .vscode/launch.json:");
                        let mut snippet = format!(
                            "{{\n  \"type\": \"ecscope\",\n  \"request\": \"attach\",\n  \"name\": \"ECScope: attach\",\n  \"port\": {port}\n}}"
                        );
                        ui.add(
                            egui::TextEdit::multiline(&mut snippet)
                                .code_editor()
                                .desired_rows(6)
                                .desired_width(f32::INFINITY),
                        );
                        ui.weak("docs/editors.md has the Neovim set-up.");
                    }
                }
            });
        self.open &= open;
    }
}
