//! `ecscope new NAME [--python]`: a project that runs at once, with a
//! manifest, a README to fill in, a first script and a `.gitignore` for
//! the per-project data ECScope keeps in `.ecscope/`.

use std::path::Path;

/// The first Lua script: a few movers and a system, to run and change.
const FIRST_LUA: &str = r#"-- main.lua: the first script. Save it while ECScope runs and it is
-- hot-reloaded; `ecs.persist` keeps what must survive a reload.

ecs.component("Mover", { speed = 10.0 })

if not ecs.persist.spawned then
  ecs.persist.spawned = true
  for i = 1, 8 do
    ecs.spawn({
      Name = "mover-" .. i,
      Position = { x = i * 10, y = 0 },
      Velocity = { x = 0, y = 5 + i },
      Mover = {},
    })
  end
end

-- Runs once per frame for every entity with these components.
ecs.system("move", { "Position", "Velocity" }, function(id, pos, vel, dt)
  pos.x = pos.x + vel.x * dt
  pos.y = pos.y + vel.y * dt
  if pos.y > 100 then pos.y = 0 end
end)

function on_load()
  print("hello from " .. ecs.count("Mover") .. " movers")
end
"#;

/// The first Python script, the same as the Lua one.
const FIRST_PYTHON: &str = r#""""main.py: the first script. Save it while ECScope runs and it is
hot-reloaded; `ecs.persist` keeps what must survive a reload."""
import ecs

ecs.component("Mover", {"speed": 10.0})

if not ecs.persist.get("spawned"):
    ecs.persist["spawned"] = True
    for i in range(1, 9):
        ecs.spawn({
            "Name": f"mover-{i}",
            "Position": {"x": i * 10.0, "y": 0.0},
            "Velocity": {"x": 0.0, "y": 5.0 + i},
            "Mover": {},
        })


# Runs once per frame for every entity with these components.
@ecs.system("move", ["Position", "Velocity"])
def move(id, pos, vel, dt):
    pos.x += vel.x * dt
    pos.y += vel.y * dt
    if pos.y > 100:
        pos.y = 0.0


def on_load():
    print(f"hello from {ecs.count('Mover')} movers")
"#;

/// Lua language server settings: the typings, and LuaJIT.
pub const LUARC: &str = r#"{
  "runtime.version": "LuaJIT",
  "workspace.library": [".ecscope/types"],
  "workspace.checkThirdParty": false
}
"#;

/// mypy settings: the stubs, and the project's own modules.
pub const MYPY_INI: &str = "# Type-checks the scripts against the stubs `ecscope types .` writes.
[mypy]
mypy_path = .ecscope/types:scripts
";

/// pyright (and Pylance) settings: the same.
pub const PYRIGHT: &str = r#"{
  "stubPath": ".ecscope/types",
  "extraPaths": ["scripts"]
}
"#;

/// Makes the project folder `dir`; returns the files made. Refuses a path
/// that exists, and then touches nothing.
pub fn create(dir: &Path, python: bool) -> Result<Vec<String>, String> {
    if dir.exists() || dir.symlink_metadata().is_ok() {
        return Err(
            "it already exists: `ecscope new` makes a new folder and changes nothing here".into(),
        );
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .ok_or("give the new folder a name")?
        .to_string();
    let script = if python {
        "scripts/main.py"
    } else {
        "scripts/main.lua"
    };
    let files: Vec<(String, String)> = vec![
        (
            "ecscope.toml".into(),
            format!(
                "[project]\nname = {name:?}\ndescription = \"What this project is about, in one line\"\n\n[world]\nfixed_dt = 0.016666667\nseed = 1\n\n[[script]]\npath = \"{script}\"\n"
            ),
        ),
        (
            "README.md".into(),
            format!(
                "# {name}\n\nWhat this project shows, and how to run it:\n\n```sh\necscope {name}                    # open it in the window\necscope run {name} --frames 600   # run it headless\necscope check {name}              # compile every script without running it\n```\n\n## What to try\n\n1. Open `{script}` in the **Scripts** tab, change a number and press **Ctrl+S**.\n"
            ),
        ),
        (
            ".gitignore".into(),
            "# ECScope's per-project data: history, breakpoints, autosaves.\n.ecscope/\n".into(),
        ),
        // Editor settings that find the typings `ecscope types` writes.
        (".luarc.json".into(), LUARC.into()),
        ("mypy.ini".into(), MYPY_INI.into()),
        ("pyrightconfig.json".into(), PYRIGHT.into()),
        (
            script.to_string(),
            if python { FIRST_PYTHON } else { FIRST_LUA }.to_string(),
        ),
    ];
    let made = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("scripts"))?;
        for (file, text) in &files {
            std::fs::write(dir.join(file), text)?;
        }
        Ok(())
    })();
    if let Err(e) = made {
        // A half-made project is nobody's: take it away again.
        let _ = std::fs::remove_dir_all(dir);
        return Err(format!("cannot make it: {e}"));
    }
    // The typings its editor settings point at; a project that cannot be
    // loaded yet still has everything else.
    let _ = crate::types::write(dir);
    Ok(files.into_iter().map(|(f, _)| f).collect())
}
