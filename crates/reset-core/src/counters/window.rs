//! The fixed-window counter rule, written once: every store reads and writes counters by it.

/// A fixed-window counter as stored: `count` hits since `start` (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Hits counted in the window.
    pub count: u32,
    /// When the window started (ms since the epoch).
    pub start: i64,
}

impl Window {
    /// The count that holds at `now` for a window of `len` ms: 0 once the window has passed
    /// (a window that started `len` ago or earlier is over).
    pub fn count_at(stored: Option<Self>, now: i64, len: i64) -> u32 {
        stored
            .filter(|w| w.start > now.saturating_sub(len))
            .map_or(0, |w| w.count)
    }

    /// The counter after `n` more hits at `now`: added to the current window, or a new window
    /// from `now` when the stored one has passed.
    pub fn add(stored: Option<Self>, now: i64, len: i64, n: u32) -> Self {
        match stored.filter(|w| w.start > now.saturating_sub(len)) {
            Some(w) => Self {
                count: w.count.saturating_add(n),
                start: w.start,
            },
            None => Self {
                count: n,
                start: now,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn a_window_counts_until_its_length_has_passed() {
        let w = Window::add(None, 1_000, 60_000, 2);
        assert_eq!(
            w,
            Window {
                count: 2,
                start: 1_000
            }
        );
        assert_eq!(Window::count_at(Some(w), 60_999, 60_000), 2);
        assert_eq!(Window::count_at(Some(w), 61_000, 60_000), 0);
        let later = Window::add(Some(w), 30_000, 60_000, 1);
        assert_eq!(
            later,
            Window {
                count: 3,
                start: 1_000
            }
        );
        let next = Window::add(Some(later), 61_000, 60_000, 1);
        assert_eq!(
            next,
            Window {
                count: 1,
                start: 61_000
            }
        );
    }
}
