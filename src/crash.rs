//! What the process says when it dies during a script's call.
//!
//! A crash in native code (a C extension or `ctypes` in a trusted Python
//! script) or an abort cannot be caught in-process. What can be done is to
//! say, on the way down, which script was running: each watched call marks
//! its script here, and a signal handler writes that name to a file
//! descriptor chosen at start (standard error for `ecscope run`, a file the
//! window's supervisor reads before it restarts the window). The handler
//! only calls `write` and `_exit`/`raise`, which are safe in a signal
//! handler, on data prepared before.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};

/// The script whose call is running: its name's bytes (owned by the
/// watchdog slot, alive while the call runs).
static CURRENT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static CURRENT_LEN: AtomicUsize = AtomicUsize::new(0);
/// Where the handler writes (-1: nowhere).
static OUT_FD: AtomicI32 = AtomicI32::new(-1);
/// The exit status after writing; -1 lets the signal end the process as it
/// would have (so a supervisor sees the signal).
static EXIT_CODE: AtomicI32 = AtomicI32::new(-1);
/// The file the window's process notes its project in (see [`note_project`]).
static NOTES: OnceLock<PathBuf> = OnceLock::new();

/// Marks the start of a call into `script` (its bytes must stay alive until
/// [`leave_call`]).
pub fn enter_call(script: &str) {
    CURRENT_LEN.store(script.len(), Ordering::Relaxed);
    CURRENT.store(script.as_ptr() as *mut u8, Ordering::Release);
}

/// Marks the end of the call.
pub fn leave_call() {
    CURRENT.store(std::ptr::null_mut(), Ordering::Release);
}

/// Says which script was running when the process crashes: writes a line to
/// `fd`, then exits with `exit_code`, or (with `None`) lets the signal end
/// the process. Unix only; elsewhere nothing is installed.
pub fn install(fd: i32, exit_code: Option<i32>) {
    OUT_FD.store(fd, Ordering::Relaxed);
    EXIT_CODE.store(exit_code.unwrap_or(-1), Ordering::Relaxed);
    #[cfg(unix)]
    for signal in [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGABRT,
    ] {
        // SAFETY: a zeroed sigaction is valid; the handler only uses
        // async-signal-safe calls; SA_ONSTACK runs it on the thread's
        // alternate stack (set up by Rust's runtime), so a stack overflow
        // can still be reported.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_ONSTACK | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Like [`install`], writing to the end of the file at `path`, which also
/// holds the project noted by [`note_project`].
pub fn install_file(path: &Path) -> std::io::Result<()> {
    use std::os::fd::IntoRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let _ = NOTES.set(path.to_path_buf());
    // The descriptor lives as long as the process: the handler writes to it.
    install(file.into_raw_fd(), None);
    Ok(())
}

/// Notes the open project in the file given to [`install_file`] (first
/// line: `restricted` or `trusted`, a tab, the folder), so that a window
/// restarted after a crash opens it again. Does nothing without that file.
pub fn note_project(root: &Path, restricted: bool) {
    if let Some(path) = NOTES.get() {
        let mode = if restricted { "restricted" } else { "trusted" };
        let _ = std::fs::write(path, format!("{mode}\t{}\n", root.display()));
    }
}

/// What a crash file says: the project noted (folder, restricted), and the
/// crash line the handler wrote, if any.
pub fn read_notes(path: &Path) -> (Option<(PathBuf, bool)>, Option<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut project = None;
    let mut crash = None;
    for line in text.lines() {
        if let Some((mode, root)) = line.split_once('\t')
            && (mode == "trusted" || mode == "restricted")
        {
            project = Some((PathBuf::from(root), mode == "restricted"));
        } else if let Some(message) = line.strip_prefix("error: ") {
            crash = Some(message.to_string());
        }
    }
    (project, crash)
}

#[cfg(unix)]
fn signal_name(signal: i32) -> &'static [u8] {
    match signal {
        libc::SIGSEGV => b"SIGSEGV, a bad memory access",
        libc::SIGBUS => b"SIGBUS, a bad memory access",
        libc::SIGILL => b"SIGILL, an illegal instruction",
        libc::SIGFPE => b"SIGFPE, an arithmetic fault",
        libc::SIGABRT => b"SIGABRT, an abort: out of memory or a failed check",
        _ => b"a fatal signal",
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signal: i32) {
    let fd = OUT_FD.load(Ordering::Relaxed);
    let write = |bytes: &[u8]| {
        // SAFETY: write(2) is async-signal-safe; the buffer is valid.
        unsafe { libc::write(fd, bytes.as_ptr() as *const libc::c_void, bytes.len()) };
    };
    if fd >= 0 {
        write(b"error: ");
        let script = CURRENT.load(Ordering::Acquire);
        if !script.is_null() {
            // SAFETY: set from a live `&str` for the length stored with it;
            // the call that set it is the one running (or crashing).
            let name =
                unsafe { std::slice::from_raw_parts(script, CURRENT_LEN.load(Ordering::Relaxed)) };
            write(name);
            write(b": ECScope crashed (");
            write(signal_name(signal));
            write(b") during a call into this script\n");
        } else {
            write(b"ECScope crashed (");
            write(signal_name(signal));
            write(b") outside any script call\n");
        }
    }
    let code = EXIT_CODE.load(Ordering::Relaxed);
    // SAFETY: _exit and raise are async-signal-safe; with SA_RESETHAND the
    // signal's default action (ending the process) applies to the raise.
    unsafe {
        if code >= 0 {
            libc::_exit(code);
        }
        libc::raise(signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_name_the_project_and_the_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes");
        std::fs::write(
            &path,
            "restricted\t/some/project\nerror: scripts/x.py: ECScope crashed (SIGSEGV, a bad memory access) during a call into this script\n",
        )
        .unwrap();
        let (project, crash) = read_notes(&path);
        assert_eq!(project, Some((PathBuf::from("/some/project"), true)));
        assert!(
            crash
                .unwrap()
                .starts_with("scripts/x.py: ECScope crashed (SIGSEGV")
        );
        assert_eq!(read_notes(&dir.path().join("none")), (None, None));
    }
}
