//! The status codes clients see, as a small fixed set of slots: counting by status is an array
//! increment, never a map insert.

/// Number of slots.
pub const SLOTS: usize = 8;

/// Each slot's name as the reports print it. The codes are the ones [`crate::sim::Outcome::status`]
/// gives; `none` is no HTTP response (an L4 listener, a reset or dropped connection); `other`
/// collects any code outside this set.
pub const NAMES: [&str; SLOTS] = ["200", "499", "500", "502", "503", "504", "none", "other"];

/// The slot of `status` (0: no HTTP response).
#[inline]
pub fn slot(status: u16) -> usize {
    match status {
        200 => 0,
        499 => 1,
        500 => 2,
        502 => 3,
        503 => 4,
        504 => 5,
        0 => 6,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{FrontKind, Outcome};

    #[test]
    fn every_status_an_outcome_gives_has_its_own_slot() {
        for front in [FrontKind::ElbL7, FrontKind::ElbL4, FrontKind::Apig] {
            for o in Outcome::ALL {
                let s = slot(o.status(front).unwrap_or(0));
                let want = o.status(front).map_or("none".into(), |c| c.to_string());
                assert_eq!(NAMES[s], want, "{o:?} behind {front:?}");
            }
        }
        assert_eq!(NAMES[slot(418)], "other");
    }
}
