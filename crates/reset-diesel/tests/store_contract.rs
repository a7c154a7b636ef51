//! The store contract (`reset_testkit::store_contract`) on each backend: one line each.

reset_testkit::store_contract!(sqlite, reset_testkit::store_contract::sqlite);
reset_testkit::store_contract!(postgres, reset_testkit::store_contract::postgres);
reset_testkit::store_contract!(mysql, reset_testkit::store_contract::mysql);
