//! One try at a code ([`crate::store::ResetState::code_try`]), planned in two steps so that it
//! locks only the counters it moves, the same number whatever it finds.
//!
//! 1. [`TryAsk::first_keys`]: the named identifier's try counter and the guessing address's
//!    share of the account's guess budget. [`TryAsk::tally`] counts the try on both.
//! 2. [`TryTally::then_keys`]: within the share, the code's own try counter (the account's when
//!    it has no live code) and the account's budget; past it, two counters of the share's own,
//!    so such a try costs what any other does. [`TryTally::finish`] counts the try on them and
//!    says whether the code may be checked.

use super::{Counters, sorted_keys};
use crate::rate_limit::{CounterHit, CounterState, Limit, guess_budget_key};
use crate::store::{CodeTry, SecretRecord};

/// A try at the code of `user_id` (an account, or an unknown identifier's stand-in account,
/// which has no code).
#[derive(Debug, Clone)]
pub struct TryAsk {
    /// The try's clock (ms).
    pub now: i64,
    /// The try counter of the identifier the caller named; its limit is also each code's.
    pub counter: CounterHit,
    /// The account (or stand-in account) whose code is tried.
    pub user_id: String,
    /// The account's guess budget (off: counted, never binding).
    pub budget: Limit,
    /// The guessing address's share of the budget (off: not counted).
    pub share: CounterHit,
}

/// A try counted on its first two counters.
#[derive(Debug, Clone, Copy)]
pub struct TryTally {
    /// The identifier's try counter after the try.
    pub counter: CounterState,
    /// Whether the guessing address is within its share of the budget.
    pub within_share: bool,
}

impl TryAsk {
    /// The counters of step 1, sorted.
    pub fn first_keys(&self) -> Vec<String> {
        let share = (!self.share.limit.is_off()).then_some(&self.share);
        sorted_keys(std::iter::once(&self.counter).chain(share))
    }

    /// Counts the try on the identifier's counter and on the address's share (step 1).
    pub fn tally(&self, counters: &mut Counters) -> TryTally {
        let counter = counters.hit(self.now, &self.counter);
        let within_share = self.share.limit.is_off()
            || counters.hit(self.now, &self.share).count <= self.share.limit.max;
        TryTally {
            counter,
            within_share,
        }
    }

    /// The two counters of step 2: (tries, budget). Past the address's share the try finds no
    /// code and spends nothing more, neither the budget nor the code's own tries, so a stranger
    /// can neither spend the owner's budget nor burn the owner's codes from one address; the
    /// same two writes then go to counters of the share's own (swept with it), so such a try
    /// costs what any other does and its timing cannot tell whose share is spent.
    fn second(&self, tally: &TryTally, code: Option<&SecretRecord>) -> [CounterHit; 2] {
        let (tries, budget) = if tally.within_share {
            let own = match code {
                Some(c) => format!("codetry:{}", c.id),
                None => format!("codetry:none:{}", self.user_id),
            };
            (own, guess_budget_key(&self.user_id))
        } else {
            (
                format!("spent:tries:{}", self.share.key),
                format!("spent:budget:{}", self.share.key),
            )
        };
        // A budget that is off is still counted, under a window that is never binding.
        let guess = if self.budget.is_off() {
            Limit::new(1, self.budget.window_secs.max(1))
        } else {
            self.budget
        };
        [
            CounterHit {
                key: tries,
                limit: self.counter.limit,
            },
            CounterHit {
                key: budget,
                limit: guess,
            },
        ]
    }
}

impl TryTally {
    /// The counters of step 2, sorted: they depend on step 1 and on the account's live code.
    pub fn then_keys(&self, ask: &TryAsk, code: Option<&SecretRecord>) -> Vec<String> {
        sorted_keys(&ask.second(self, code))
    }

    /// Counts the try on step 2's counters: the code comes back, its `attempts` counting this
    /// try, only within the share and while it has tries left.
    pub fn finish(
        self,
        ask: &TryAsk,
        counters: &mut Counters,
        code: Option<SecretRecord>,
    ) -> CodeTry {
        let [tries, budget] = ask.second(&self, code.as_ref());
        let tries = counters.hit(ask.now, &tries);
        counters.hit(ask.now, &budget);
        let code = code
            .filter(|c| self.within_share && tries.count <= c.max_attempts)
            .map(|c| SecretRecord {
                attempts: tries.count,
                ..c
            });
        CodeTry {
            counter: self.counter,
            code,
        }
    }
}
