//! The Lua sandbox (see `sandbox.lua`): what a script may reach outside
//! ECScope. Paths are checked here, in Rust, against the project folder
//! with `..` and symbolic links resolved.

use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use mlua::{Lua, Value};

use super::api::{Ctx, caller_location};
use crate::ecs::events::EventKind;

const SANDBOX: &str = include_str!("sandbox.lua");

/// Applies the sandbox to a script's state: always the guard on `os.exit`,
/// and everything else when `sandboxed`.
pub fn apply(lua: &Lua, ctx: &Rc<Ctx>, sandboxed: bool) -> mlua::Result<()> {
    let root = ctx.root.canonicalize().unwrap_or_else(|_| ctx.root.clone());
    let resolve_root = root.clone();
    let resolve = lua.create_function(move |_, (path, writing): (String, bool)| {
        Ok(match allowed(&resolve_root, &path, writing) {
            Ok(full) => (Some(full.display().to_string()), None),
            Err(problem) => (None, Some(problem.0)),
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

crate::message_error! {
    /// A path the sandbox refuses, and why (the message is raised in the
    /// script at the line that asked).
    Denied
}

/// `path` (relative to the project, or absolute) as an absolute path inside
/// `root`, or why not. Links are followed for every part of the path that
/// exists (a link inside the project pointing out of it is outside); a part
/// that does not exist yet is taken under its nearest existing parent, once
/// that parent is resolved. A link that points nowhere is refused, since
/// creating a file through it would create it wherever it points.
pub fn inside(root: &Path, path: &str) -> Result<PathBuf, Denied> {
    // C's fopen stops at a NUL: the file opened would not be the one
    // checked here.
    if path.contains('\0') {
        return Err(Denied("a path cannot contain a NUL byte".to_string()));
    }
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
    // `symlink_metadata` sees a dangling link as existing, where `exists`
    // would follow it and say no.
    let mut existing = normal.clone();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(&existing).is_err() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut real = existing
        .canonicalize()
        .map_err(|_| "a symbolic link in the path points to nothing".to_string())?;
    for name in rest.iter().rev() {
        real.push(name);
    }
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Denied("outside the project folder".to_string()))
    }
}

/// As [`inside`], and also refusing ECScope's own `.ecscope/` folder and,
/// when `writing`, the manifest: a sandboxed script must not change its own
/// trust or the project's history.
pub fn allowed(root: &Path, path: &str, writing: bool) -> Result<PathBuf, Denied> {
    let real = inside(root, path)?;
    if real.starts_with(root.join(".ecscope")) {
        return Err(Denied(
            "the .ecscope folder is ECScope's own (history, autosaves)".to_string(),
        ));
    }
    if writing && real == root.join("ecscope.toml") {
        return Err(Denied(
            "the manifest cannot be changed by a sandboxed script".to_string(),
        ));
    }
    Ok(real)
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
            let outside = tempfile::tempdir().unwrap();
            let target = outside.path().join("made-through-a-link.txt");
            std::os::unix::fs::symlink(&target, root.join("dangling")).unwrap();
            assert!(inside(&root, "dangling").is_err());
            assert!(inside(&root, "dangling/x").is_err());
            assert!(inside(&root, "data/a.txt\0").is_err());
        }
        assert!(allowed(&root, ".ecscope/history/x", false).is_err());
        assert!(allowed(&root, "ecscope.toml", true).is_err());
        assert!(allowed(&root, "ecscope.toml", false).is_ok());
        assert!(allowed(&root, "data/../ecscope.toml", true).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("ecscope.toml"), root.join("alias")).unwrap();
            std::fs::write(root.join("ecscope.toml"), "").unwrap();
            assert!(allowed(&root, "alias", true).is_err());
        }
    }
}
