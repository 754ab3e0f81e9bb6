//! Opening and closing a project many times in one process leaves nothing
//! behind: Lua states and Python modules are released with their runtime.
//! (Alone in its test binary: the heap totals are process-wide.)

use ecscope::project::Project;
use ecscope::runtime::Runtime;

/// Opens the project, runs a few frames, closes it; returns the Python
/// heap it saw last (bytes), when Python's heap is counted.
fn cycle(dir: &std::path::Path) -> Option<f64> {
    let mut runtime = Runtime::open(Project::open(dir).unwrap());
    assert_eq!(runtime.error_count(), 0);
    for _ in 0..5 {
        runtime.step();
    }
    runtime
        .memory_view()
        .series
        .iter()
        .find(|s| s.name == "python")
        .map(|s| s.current())
}

#[test]
fn fifty_opens_and_closes_do_not_grow_memory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"cycle\"\n[[script]]\npath = \"scripts/a.lua\"\n[[script]]\npath = \"scripts/b.py\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/a.lua"),
        "local t = {}\nfor i = 1, 200 do t[i] = ecs.spawn({ Position = { x = i, y = 0 } }) end\necs.system('m', { 'Position' }, function(id, p, dt) p.x = p.x + 1 end)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/helper.py"),
        "TABLE = [i * i for i in range(1000)]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/b.py"),
        "import ecs\nimport helper\nkept = [str(i) for i in range(2000)]\n\n@ecs.system('n')\ndef n(dt):\n    ecs.persist['x'] = len(helper.TABLE)\n",
    )
    .unwrap();

    for _ in 0..5 {
        cycle(dir.path());
    }
    let (rust_before, _) = ecscope::profiling::alloc::live();
    let python_before = cycle(dir.path());
    for _ in 0..50 {
        cycle(dir.path());
    }
    let (rust_after, _) = ecscope::profiling::alloc::live();
    let python_after = cycle(dir.path());
    let rust_growth = rust_after as f64 - rust_before as f64;
    eprintln!(
        "over 50 cycles: Rust heap {rust_growth:+} bytes, Python heap {python_before:?} -> {python_after:?}"
    );
    // A leak of one Lua state (about 100 KB) or one module per cycle would
    // be several MB after fifty.
    assert!(
        rust_growth < 1_000_000.0,
        "Rust heap grew {rust_growth} bytes over 50 cycles"
    );
    if let (Some(before), Some(after)) = (python_before, python_after) {
        assert!(
            after - before < 1_000_000.0,
            "Python heap grew {} bytes over 50 cycles",
            after - before
        );
    }
}
