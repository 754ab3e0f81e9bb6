//! Line diffs between two versions of a script, for the history view, with
//! the words that changed inside each changed line (the `similar` crate).

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// Whether a line is in both texts, or only in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// In both.
    Same,
    /// Only in the old text.
    Removed,
    /// Only in the new text.
    Added,
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// In which text the line is.
    pub change: Change,
    /// The line in pieces: `true` marks the words that changed, in a line
    /// whose counterpart on the other side is similar.
    pub parts: Vec<(bool, String)>,
}

impl DiffLine {
    /// The whole line.
    pub fn text(&self) -> String {
        self.parts.iter().map(|(_, s)| s.as_str()).collect()
    }
}

/// How long a diff may take before it settles for a coarser answer (a
/// huge text with changes everywhere).
const DEADLINE: Duration = Duration::from_millis(300);

/// The line diff of `old` → `new`, with word-level changes.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::configure().timeout(DEADLINE).diff_lines(old, new);
    let mut out = Vec::new();
    for op in diff.ops() {
        for change in diff.iter_inline_changes(op) {
            let change_kind = match change.tag() {
                ChangeTag::Equal => Change::Same,
                ChangeTag::Delete => Change::Removed,
                ChangeTag::Insert => Change::Added,
            };
            let parts = change
                .iter_strings_lossy()
                .map(|(emphasized, text)| {
                    (emphasized, text.trim_end_matches(['\n', '\r']).to_string())
                })
                .filter(|(_, text)| !text.is_empty())
                .collect();
            out.push(DiffLine {
                change: change_kind,
                parts,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[DiffLine]) -> Vec<(Change, String)> {
        lines.iter().map(|l| (l.change, l.text())).collect()
    }

    #[test]
    fn diffs_changed_lines() {
        let d = diff_lines("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
        assert_eq!(
            plain(&d),
            vec![
                (Change::Same, "a".into()),
                (Change::Removed, "b".into()),
                (Change::Added, "B".into()),
                (Change::Same, "c".into()),
                (Change::Same, "d".into()),
                (Change::Added, "e".into()),
            ]
        );
        assert!(
            diff_lines("x\n", "x\n")
                .iter()
                .all(|l| l.change == Change::Same)
        );
    }

    #[test]
    fn marks_the_words_that_changed_in_a_line() {
        let d = diff_lines(
            "local speed = 12.0 -- fast\n",
            "local speed = 18.5 -- fast\n",
        );
        let changed: Vec<(Change, Vec<String>)> = d
            .iter()
            .map(|l| {
                let words = l
                    .parts
                    .iter()
                    .filter(|(e, _)| *e)
                    .map(|(_, s)| s.clone())
                    .collect();
                (l.change, words)
            })
            .collect();
        assert_eq!(
            changed,
            vec![
                (Change::Removed, vec!["12.0".to_string()]),
                (Change::Added, vec!["18.5".to_string()]),
            ]
        );
    }
}
