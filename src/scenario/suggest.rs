//! "Did you mean …?" suggestions for misspelt field names and enumeration values.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (at most a third of the longer word's length, and at least one edit allowed). Words shorter
/// than three characters get no suggestion. Bounded work: words and candidates longer than
/// [`MAX_WORD`] characters are skipped, and only the first [`MAX_CANDIDATES`] candidates are read.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if !(3..=MAX_WORD).contains(&word.chars().count()) {
        return None; // every short word is "close" to every other; long ones are no typos
    }
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .take(MAX_CANDIDATES)
        .filter(|c| c.len() <= 4 * MAX_WORD)
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (word.chars().count().max(c.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Longest word (in characters) a suggestion is looked for.
const MAX_WORD: usize = 128;
/// Most candidates compared with one word.
const MAX_CANDIDATES: usize = 10_000;

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_field() {
        let fields = ["lb_algorithm", "protocol", "slow_start"];
        assert_eq!(closest("lb_algorith", fields), Some("lb_algorithm"));
        assert_eq!(closest("protocl", fields), Some("protocol"));
        assert_eq!(
            closest("round_robin", ["ROUND_ROBIN", "SOURCE_IP"]),
            Some("ROUND_ROBIN")
        );
        assert_eq!(closest("zzzzzz", fields), None);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
