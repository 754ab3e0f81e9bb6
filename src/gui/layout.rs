//! The docked panel layout (egui_tiles) and its default arrangement.

use egui_tiles::{Linear, LinearDir, Tile, Tiles, Tree};
use serde::{Deserialize, Serialize};

/// A dockable panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pane {
    /// The world drawn in 2D.
    Scene,
    /// The list of entities.
    Entities,
    /// The selected entity's components.
    Inspector,
    /// Logs and errors.
    Console,
    /// The project's scripts, with breakpoints.
    Scripts,
    /// Live coroutines, their stacks and locals.
    Coroutines,
    /// Flame graphs and per-script statistics.
    Profiler,
    /// Memory charts and leak warnings.
    Memory,
    /// The project's README, rendered.
    Readme,
}

impl Pane {
    /// Every pane, in menu order.
    pub const ALL: [Pane; 9] = [
        Pane::Scene,
        Pane::Entities,
        Pane::Inspector,
        Pane::Readme,
        Pane::Console,
        Pane::Scripts,
        Pane::Profiler,
        Pane::Memory,
        Pane::Coroutines,
    ];

    /// The tab title.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Scene => "Scene",
            Pane::Entities => "Entities",
            Pane::Inspector => "Inspector",
            Pane::Console => "Console",
            Pane::Scripts => "Scripts",
            Pane::Coroutines => "Coroutines",
            Pane::Profiler => "Profiler",
            Pane::Memory => "Memory",
            Pane::Readme => "README",
        }
    }
}

/// Entities on the left; the scene in the middle over a tabbed area
/// (scripts, profiler, memory, coroutines); inspector (with the README as
/// a second tab) over console on the right.
pub fn default_tree() -> Tree<Pane> {
    let mut tiles = Tiles::default();
    let entities = tiles.insert_pane(Pane::Entities);
    let scene = tiles.insert_pane(Pane::Scene);
    let scripts = tiles.insert_pane(Pane::Scripts);
    let profiler = tiles.insert_pane(Pane::Profiler);
    let memory = tiles.insert_pane(Pane::Memory);
    let coroutines = tiles.insert_pane(Pane::Coroutines);
    let lower = tiles.insert_tab_tile(vec![scripts, profiler, memory, coroutines]);
    let middle = tiles.insert_container(Linear::new_binary(
        LinearDir::Vertical,
        [scene, lower],
        0.58,
    ));
    let inspector = tiles.insert_pane(Pane::Inspector);
    let readme = tiles.insert_pane(Pane::Readme);
    let upper_right = tiles.insert_tab_tile(vec![inspector, readme]);
    let console = tiles.insert_pane(Pane::Console);
    let right = tiles.insert_container(Linear::new_binary(
        LinearDir::Vertical,
        [upper_right, console],
        0.55,
    ));
    let mut row = Linear::new(LinearDir::Horizontal, vec![entities, middle, right]);
    row.shares.set_share(entities, 0.8);
    row.shares.set_share(middle, 2.6);
    row.shares.set_share(right, 1.1);
    let root = tiles.insert_container(row);
    Tree::new("ecscope-dock", root, tiles)
}

/// True when every pane appears in the tree (a layout saved by an older
/// version may lack newer panels).
pub fn has_every_pane(tree: &Tree<Pane>) -> bool {
    Pane::ALL.iter().all(|pane| {
        tree.tiles
            .iter()
            .any(|(_, tile)| matches!(tile, Tile::Pane(p) if p == pane))
    })
}
