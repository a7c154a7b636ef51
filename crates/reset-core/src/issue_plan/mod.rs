//! The issue transaction decided once, for every store: a batch of reset requests becomes
//! secrets, supersessions, counted send caps, decoys, audit events and outbox rows in three
//! steps.
//!
//! 1. **load** (the store): under each holder's lock, read the [`Facts`] a batch needs, as
//!    [`Needs`] lists them: which requests were audited or issued already, each account's newest
//!    request, and the counters the batch checks.
//! 2. **plan** ([`plan`], here): a pure function, no I/O. For each request in arrival order it
//!    decides what happens ([`Step`]) and what the batch writes ([`Plan`]).
//! 3. **apply** (the store): the plan's writes, set-based where the store allows.
//!
//! No decision about a request lives in SQL: a store reads facts and writes plans. The
//! fixed-window counter rule is [`Window`] ([`crate::counters`], which rate-limit hits and code
//! tries are decided by as well). See `docs/anti-enumeration.md` for what an unknown
//! identifier's request costs and writes on each store.

mod ask;
mod facts;
mod plan;

pub use crate::counters::{CounterWrite, Window};
pub use ask::{Ask, Holder, Rule};
pub use facts::{Facts, Needs};
pub use plan::{Decision, Kill, Plan, Step, plan};
