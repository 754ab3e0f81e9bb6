//! Property tests of the inputs ECScope reads from disk: the manifest parser
//! and the version history. Whatever the bytes, they give a value or an
//! error naming the file (and the line, when there is one), never a panic;
//! the history reads back exactly what was recorded and survives a damaged
//! index.

use std::path::Path;

use ecscope::hot_reload::history::{History, VersionStatus};
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_history_reads_back_what_it_recorded(
        saves in prop::collection::vec((0usize..3, "[^\\u{0}]{0,40}", any::<bool>()), 1..12),
        keep in 1usize..6,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let scripts = ["scripts/a.lua", "scripts/b.py", "scripts/sub/c.lua"];
        let mut expected: Vec<Vec<(u32, String)>> = vec![Vec::new(); 3];
        {
            let mut history = History::open(dir.path(), keep);
            for (which, text, failed) in &saves {
                let status = if *failed { VersionStatus::Failed } else { VersionStatus::Loaded };
                let version = history.record(scripts[*which], text, status, None, "test");
                expected[*which].push((version, text.clone()));
            }
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
        let index = dir.path().join("history/scripts__a.lua/index.json");
        prop_assume!(index.is_file());
        std::fs::write(&index, &garbage).unwrap();
        let mut history = History::open(dir.path(), 10);
        let versions = history.versions("scripts/a.lua");
        let next = history.record("scripts/a.lua", "v2", VersionStatus::Loaded, None, "test");
        prop_assert!(next as usize > versions.len().saturating_sub(1));
        prop_assert_eq!(history.text("scripts/a.lua", next), Some("v2".to_string()));
    }
}
