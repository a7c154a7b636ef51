//! The dialect scenarios, one file per seed document (see `docs/compat.md`): every request
//! example, documented status and exact body replayed; plus secrets crossing from one dialect to
//! another.

mod common;
pub mod cross;
pub mod forgot_password;
pub mod misskey;
pub mod unleash;
pub mod zitadel;

pub use cross::*;
pub use forgot_password::*;
pub use misskey::*;
pub use unleash::*;
pub use zitadel::*;
