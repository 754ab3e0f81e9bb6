//! The Lua sandbox (see `sandbox.lua`): what a script may reach outside
//! ECScope. Paths are checked here, in Rust, against the project folder
//! with `..` and symbolic links resolved.

use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use mlua::{Lua, Value};

use super::api::{Ctx, caller_location};
use crate::runtime::EventKind;

const SANDBOX: &str = include_str!("sandbox.lua");

/// Applies the sandbox to a script's state: always the guard on `os.exit`,
/// and everything else when `sandboxed`.
pub fn apply(lua: &Lua, ctx: &Rc<Ctx>, sandboxed: bool) -> mlua::Result<()> {
    let root = ctx.root.canonicalize().unwrap_or_else(|_| ctx.root.clone());
    let resolve_root = root.clone();
    let resolve = lua.create_function(move |_, path: String| {
        Ok(match inside(&resolve_root, &path) {
            Ok(full) => (Some(full.display().to_string()), None),
            Err(problem) => (None, Some(problem)),
        })
    })?;
    let report_ctx = Rc::clone(ctx);
    let report = lua.create_function(move |lua, name: String| {
        let at = caller_location(lua)
            .map(|(file, line)| format!(" at {file}:{line}"))
            .unwrap_or_default();
        let message = format!("sandbox: denied {name}{at}");
        report_ctx.with_host(|h| h.push_event(EventKind::Notice { message }))
    })?;
    lua.load(SANDBOX)
        .set_name("=ecscope sandbox")
        .call::<Value>((sandboxed, resolve, report))?;
    Ok(())
}

/// `path` (relative to the project, or absolute) as an absolute path inside
/// `root`, or why not.
pub fn inside(root: &Path, path: &str) -> Result<PathBuf, String> {
    let given = Path::new(path);
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        root.join(given)
    };
    let mut normal = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    // Links are followed for the part that exists: a link inside the
    // project pointing out of it is outside.
    let mut existing = normal.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut real = existing.canonicalize().unwrap_or(existing);
    for name in rest.iter().rev() {
        real.push(name);
    }
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err("outside the project folder".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        assert_eq!(
            inside(&root, "data/a.txt").unwrap(),
            root.join("data/a.txt")
        );
        assert_eq!(
            inside(&root, "./data/../b.txt").unwrap(),
            root.join("b.txt")
        );
        assert!(inside(&root, "../outside.txt").is_err());
        assert!(inside(&root, "/etc/passwd").is_err());
        assert!(inside(&root, "data/../../x").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/tmp", root.join("link")).unwrap();
            assert!(inside(&root, "link/secret").is_err());
        }
    }
}
