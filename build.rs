//! Build script: links the embedded Python so the binary loads the same
//! libpython as the `python3` the build found (its standard library and its
//! installed packages), not whichever one the system loader finds first.

fn main() {
    #[cfg(feature = "python")]
    pyo3_build_config::add_libpython_rpath_link_args();
}
