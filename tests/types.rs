//! `ecscope types`: the Lua annotations load as Lua and name every API
//! function and every component the project declares; the Python stub
//! does too, and mypy type-checks every sample's Python scripts against it
//! with no error.

mod common;

use std::path::Path;
use std::process::Command;

use ecscope::ecs::api::{FUNCTIONS, Kind};
use ecscope::types::api;

fn write_types(dir: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(["types", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let types = dir.join(".ecscope/types");
    (
        std::fs::read_to_string(types.join("ecs.lua")).unwrap(),
        std::fs::read_to_string(types.join("ecs.pyi")).unwrap(),
    )
}

fn samples() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_projects");
    let mut names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("ecscope.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_typings_name_the_whole_api_and_each_declared_component_and_load_as_lua() {
    for name in ["ai_coroutines", "cross_language", "hello_python"] {
        let dir = common::copy_of_sample(name);
        let (lua, py) = write_types(dir.path());
        ecscope::scripting::lua::syntax_check(".ecscope/types/ecs.lua", &lua)
            .unwrap_or_else(|e| panic!("{name}: the annotations do not load: {}", e.message));
        assert!(lua.starts_with("---@meta"), "{name}");
        // Each function's Lua signature is the description's.
        for f in FUNCTIONS {
            let params: Vec<&str> = f
                .params
                .iter()
                .map(|p| if p.kind == Kind::Rest { "..." } else { p.name })
                .collect();
            let signature = format!("function ecs.{}({}) end", f.name, params.join(", "));
            assert!(lua.contains(&signature), "{name}: no `{signature}`");
            if let Some(first) = f.params.first().filter(|p| p.kind != Kind::Rest) {
                let def = format!("def {}({}: ", f.name, first.name);
                assert!(py.contains(&def), "{name}: no `{def}` in the Python stub");
            }
        }
        for f in api() {
            assert!(
                lua.contains(&format!("function ecs.{f}("))
                    || lua.contains(&format!("---@field {f} ")),
                "{name}: ecs.{f} missing from the Lua annotations"
            );
            assert!(
                py.contains(&format!("def {f}(")) || py.contains(&format!("{f}: ")),
                "{name}: ecs.{f} missing from the Python stub"
            );
        }
        // Every component the project's world knows, built-in or declared.
        let project = ecscope::project::Project::open(dir.path()).unwrap();
        let rt = ecscope::runtime::Runtime::open(project);
        for def in rt.host().borrow().world.defs() {
            if def.name == "Name" {
                continue;
            }
            assert!(
                lua.contains(&format!("---@class {}\n", def.name)),
                "{name}: {}",
                def.name
            );
            assert!(
                py.contains(&format!("class {}(Component):", def.name)),
                "{name}: {}",
                def.name
            );
            for field in &def.fields {
                assert!(
                    lua.contains(&format!("---@field {} ", field.name)),
                    "{name}: {}.{}",
                    def.name,
                    field.name
                );
            }
        }
    }
}

#[test]
fn a_project_whose_scripts_fail_to_load_still_gets_the_api() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"t\"\n[[script]]\npath = \"scripts/a.lua\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/a.lua"),
        "ecs.component(\"Early\", { hp = 3 })\nerror(\"boom\")\n",
    )
    .unwrap();
    let (lua, py) = write_types(dir.path());
    assert!(lua.contains("function ecs.spawn("));
    assert!(
        lua.contains("---@class Early\n---@field hp integer"),
        "{lua}"
    );
    assert!(py.contains("class Early(Component):\n    hp: int"), "{py}");
}

#[test]
fn mypy_finds_no_error_in_any_samples_python_against_the_stub() {
    let mypy = Command::new("python3")
        .args(["-m", "mypy", "--version"])
        .output();
    assert!(
        mypy.is_ok_and(|o| o.status.success()),
        "mypy is needed (python3 -m pip install mypy; .ci/run installs it)"
    );
    let mut checked = 0;
    for name in samples() {
        let dir = common::copy_of_sample(&name);
        let has_python = std::fs::read_dir(dir.path().join("scripts"))
            .unwrap()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "py"));
        if !has_python {
            continue;
        }
        assert!(
            dir.path().join("mypy.ini").is_file(),
            "{name} has no mypy.ini"
        );
        assert!(
            dir.path().join(".luarc.json").is_file(),
            "{name} has no .luarc.json"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("pyrightconfig.json"))
                .ok()
                .as_deref(),
            Some(ecscope::new_project::PYRIGHT),
            "{name} has no pyrightconfig.json for Pylance"
        );
        write_types(dir.path());
        let out = Command::new("python3")
            .args(["-m", "mypy", "--config-file", "mypy.ini", "scripts"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} samples with Python");
}
