DELETE FROM account_locks WHERE slot = -1;
