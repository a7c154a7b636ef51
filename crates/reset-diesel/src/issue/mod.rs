//! The issue transaction on every backend: **load** the facts a batch needs (per backend:
//! statements on SQLite and MySQL, `reset_issue_load` on PostgreSQL), **plan** it with
//! [`reset_core::issue_plan::plan`] (the same pure function for every backend), **apply** the
//! rows [`writes::Writes`] builds from the plan (statements, or `reset_issue_apply`). No
//! decision about a request is made in SQL.

pub mod facts;
pub mod writes;
