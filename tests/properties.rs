//! Property tests of the inputs ECScope reads from disk: the manifest parser
//! and the version history. Whatever the bytes, they give a value or an
//! error naming the file (and the line, when there is one), never a panic;
//! the history reads back exactly what was recorded, keeps scripts whose
//! paths once collided apart, and survives a damaged, lost or foreign index
//! and a folder that cannot be written.

use std::collections::BTreeMap;
use std::path::Path;

use ecscope::hot_reload::history::{History, VersionStatus, folder_name};
use ecscope::project::Manifest;
use proptest::prelude::*;

/// Lines that look like a manifest's, valid or not, in any order.
fn manifest_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[project]".to_string()),
        Just("[world]".to_string()),
        Just("[limits]".to_string()),
        Just("[sandbox]".to_string()),
        Just("[[script]]".to_string()),
        Just("[history]".to_string()),
        "[a-z_]{1,16} = (\"[^\"\\n]{0,10}\"|-?[0-9]{1,12}(\\.[0-9]{1,3})?|true|false|\\[\\])",
        "(name|path|fixed_dt|seed|memory_mb|lua|keep|spawns_per_frame|value_items) = (\"[^\"\\n]{0,10}\"|-?[0-9]{1,6}|true)",
        "[^\\n]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_manifest_parser_never_panics_and_errors_point_at_a_line(
        lines in prop::collection::vec(manifest_line(), 0..14)
    ) {
        let text = lines.join("\n");
        let file = Path::new("/p/ecscope.toml");
        match Manifest::parse(&text, file, Path::new("/p")) {
            Ok(manifest) => {
                prop_assert!(!manifest.project.name.trim().is_empty());
                prop_assert!(!manifest.scripts.is_empty());
                prop_assert!(manifest.limits.spawns_per_frame > 0);
            }
            Err(err) => {
                prop_assert_eq!(&err.file, file);
                if let Some(line) = err.line {
                    prop_assert!(line >= 1 && line <= text.lines().count().max(1));
                }
                prop_assert!(!err.message.is_empty());
            }
        }
    }

    #[test]
    fn any_bytes_as_a_manifest_are_an_error_or_a_manifest(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ecscope.toml"), &bytes).unwrap();
        let _ = Manifest::load(dir.path());
    }
}

/// Script paths whose folders collided when `/` was flattened to `__`.
const HISTORY_SCRIPTS: [&str; 5] = [
    "scripts/a.lua",
    "scripts/b.py",
    "scripts/sub/c.lua",
    "scripts/sub__c.lua",
    "scripts/sub_/_c.lua",
];

/// Something done to a history store or its folder.
#[derive(Debug, Clone)]
enum HistoryOp {
    Record(usize, String),
    /// Deletes the script's `index.json`.
    DeleteIndex(usize),
    /// Replaces the script's `index.json` with bytes.
    GarbageIndex(usize, Vec<u8>),
    /// Copies another script's `index.json` over the script's.
    SwapIndex(usize, usize),
    /// Makes the script's texts unwritable (folders where the temporary
    /// files go, which stop root too), or writable again.
    Block(usize, bool),
    /// Drops the store and opens a new one over the folder.
    Reopen,
}

fn history_op() -> impl Strategy<Value = HistoryOp> {
    let which = 0..HISTORY_SCRIPTS.len();
    prop_oneof![
        6 => (which.clone(), "[^\\u{0}]{0,20}").prop_map(|(w, t)| HistoryOp::Record(w, t)),
        1 => which.clone().prop_map(HistoryOp::DeleteIndex),
        1 => (which.clone(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(w, g)| HistoryOp::GarbageIndex(w, g)),
        1 => (which.clone(), which.clone()).prop_map(|(a, b)| HistoryOp::SwapIndex(a, b)),
        1 => (which, any::<bool>()).prop_map(|(w, b)| HistoryOp::Block(w, b)),
        1 => Just(HistoryOp::Reopen),
    ]
}

fn history_folder(dir: &Path, script: &str) -> std::path::PathBuf {
    dir.join("history").join(folder_name(script))
}

/// Every listed version reads back as the text recorded with that number
/// for that script, numbers only grow, and the last version recorded while
/// the folder was writable is listed.
fn check_history(
    history: &mut History,
    recorded: &BTreeMap<(usize, u32), String>,
    last_saved: &[Option<u32>],
) -> Result<(), TestCaseError> {
    for (i, script) in HISTORY_SCRIPTS.iter().enumerate() {
        let versions = history.versions(script);
        for pair in versions.windows(2) {
            prop_assert!(pair[0].version < pair[1].version);
        }
        for v in &versions {
            let text = history.text(script, v.version);
            prop_assert_eq!(
                text.as_ref(),
                recorded.get(&(i, v.version)),
                "{} v{}",
                script,
                v.version
            );
        }
        if let Some(last) = last_saved[i] {
            prop_assert_eq!(versions.last().map(|v| v.version), Some(last), "{}", script);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_history_reads_back_what_it_recorded(
        saves in prop::collection::vec((0usize..HISTORY_SCRIPTS.len(), "[^\\u{0}]{0,40}", any::<bool>()), 1..16),
        keep in 1usize..6,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let scripts = HISTORY_SCRIPTS;
        let mut expected: Vec<Vec<(u32, String)>> = vec![Vec::new(); scripts.len()];
        {
            let mut history = History::open(dir.path(), keep);
            for (which, text, failed) in &saves {
                let status = if *failed { VersionStatus::Failed } else { VersionStatus::Loaded };
                let version = history.record(scripts[*which], text, status, None, "test");
                expected[*which].push((version, text.clone()));
            }
            prop_assert!(history.take_problem().is_none());
        }
        // A fresh store over the same folder sees the same versions.
        let mut history = History::open(dir.path(), keep);
        for (i, script) in scripts.iter().enumerate() {
            let versions = history.versions(script);
            let kept: Vec<_> = expected[i].iter().rev().take(keep).rev().cloned().collect();
            prop_assert_eq!(versions.len(), kept.len());
            for (v, (number, text)) in versions.iter().zip(&kept) {
                prop_assert_eq!(v.version, *number);
                prop_assert_eq!(history.text(script, v.version), Some(text.clone()));
            }
        }
        prop_assert!(history.take_problem().is_none());
    }

    #[test]
    fn a_damaged_history_index_is_set_aside_and_new_versions_go_on(
        garbage in prop::collection::vec(any::<u8>(), 0..120)
    ) {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut history = History::open(dir.path(), 10);
            history.record("scripts/a.lua", "v1", VersionStatus::Loaded, None, "test");
        }
        let index = history_folder(dir.path(), "scripts/a.lua").join("index.json");
        prop_assert!(index.is_file());
        std::fs::write(&index, &garbage).unwrap();
        let mut history = History::open(dir.path(), 10);
        let versions = history.versions("scripts/a.lua");
        prop_assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1]);
        let next = history.record("scripts/a.lua", "v2", VersionStatus::Loaded, None, "test");
        prop_assert_eq!(next, 2);
        prop_assert_eq!(history.text("scripts/a.lua", 1), Some("v1".to_string()));
        prop_assert_eq!(history.text("scripts/a.lua", next), Some("v2".to_string()));
        let reopened = History::open(dir.path(), 10).versions("scripts/a.lua");
        prop_assert_eq!(reopened.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn the_history_survives_lost_indexes_and_unwritable_folders(
        ops in prop::collection::vec(history_op(), 1..24),
        keep in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let n = HISTORY_SCRIPTS.len();
        let mut history = History::open(dir.path(), keep);
        // Every text recorded, by script and number: a number is never
        // given to two texts while the first can still be read.
        let mut recorded: BTreeMap<(usize, u32), String> = BTreeMap::new();
        let mut blocked = vec![false; n];
        let mut last_saved: Vec<Option<u32>> = vec![None; n];
        let block = |which: usize, on: bool| {
            let folder = history_folder(dir.path(), HISTORY_SCRIPTS[which]);
            let ext = Path::new(HISTORY_SCRIPTS[which]).extension().unwrap().to_str().unwrap();
            for number in 1..=40u32 {
                let tmp = folder.join(format!("v{number:05}.{ext}.tmp"));
                if on {
                    std::fs::create_dir_all(&tmp).unwrap();
                } else {
                    let _ = std::fs::remove_dir(&tmp);
                }
            }
        };
        for op in &ops {
            match op {
                HistoryOp::Record(which, text) => {
                    let script = HISTORY_SCRIPTS[*which];
                    let version = history.record(script, text, VersionStatus::Loaded, None, "test");
                    prop_assert_eq!(history.text(script, version), Some(text.clone()));
                    let old = recorded.insert((*which, version), text.clone());
                    prop_assert!(old.is_none(), "{} v{} numbered twice", script, version);
                    last_saved[*which] = (!blocked[*which]).then_some(version);
                }
                HistoryOp::DeleteIndex(which) => {
                    let folder = history_folder(dir.path(), HISTORY_SCRIPTS[*which]);
                    let _ = std::fs::remove_file(folder.join("index.json"));
                }
                HistoryOp::GarbageIndex(which, garbage) => {
                    let folder = history_folder(dir.path(), HISTORY_SCRIPTS[*which]);
                    if folder.is_dir() {
                        std::fs::write(folder.join("index.json"), garbage).unwrap();
                    }
                }
                HistoryOp::SwapIndex(which, other) => {
                    let from = history_folder(dir.path(), HISTORY_SCRIPTS[*other]).join("index.json");
                    let folder = history_folder(dir.path(), HISTORY_SCRIPTS[*which]);
                    if which != other && from.is_file() && folder.is_dir() {
                        std::fs::copy(&from, folder.join("index.json")).unwrap();
                    }
                }
                HistoryOp::Block(which, on) => {
                    block(*which, *on);
                    blocked[*which] = *on;
                }
                HistoryOp::Reopen => {
                    history = History::open(dir.path(), keep);
                    check_history(&mut history, &recorded, &last_saved)?;
                    // What is not listed now is gone for good (pruned, or
                    // kept in memory only): its number may be given again
                    // once no file has it.
                    let mut listed = std::collections::BTreeSet::new();
                    for (which, script) in HISTORY_SCRIPTS.iter().enumerate() {
                        for v in history.versions(script) {
                            listed.insert((which, v.version));
                        }
                    }
                    recorded.retain(|key, _| listed.contains(key));
                }
            }
        }
        check_history(&mut history, &recorded, &last_saved)?;
        // Writable again: one more version each, and every version recorded
        // since the last reopening is written, up to `keep`.
        for (which, blocked) in blocked.iter_mut().enumerate().take(n) {
            block(which, false);
            *blocked = false;
        }
        let mut expected_last: Vec<Vec<u32>> = Vec::new();
        for (which, script) in HISTORY_SCRIPTS.iter().enumerate() {
            let version = history.record(script, "last", VersionStatus::Loaded, None, "test");
            prop_assert!(recorded.insert((which, version), "last".to_string()).is_none());
            last_saved[which] = Some(version);
            expected_last.push(history.versions(script).iter().map(|v| v.version).collect());
        }
        let mut history = History::open(dir.path(), keep);
        check_history(&mut history, &recorded, &last_saved)?;
        for (which, script) in HISTORY_SCRIPTS.iter().enumerate() {
            let listed: Vec<u32> = history.versions(script).iter().map(|v| v.version).collect();
            prop_assert_eq!(&listed, &expected_last[which], "{}", script);
        }
    }
}
