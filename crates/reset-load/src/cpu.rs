//! CPU used by processes during a scenario, read from `/proc` (Linux), as a share of one core:
//! the server processes given by pid and the database's processes given by name.

use std::time::Instant;

/// Measures the processes of one run.
pub struct Meter {
    pids: Vec<u32>,
    /// The database server's process name (`postgres`, `mariadbd`); `None`: in-process SQLite.
    database: Option<String>,
}

/// A reading: ticks so far per pid and of the database's processes together, and when.
pub struct Reading {
    servers: Vec<u64>,
    database: u64,
    at: Instant,
}

impl Meter {
    pub fn new(pids: Vec<u32>, database: Option<String>) -> Self {
        Self { pids, database }
    }

    pub fn read(&self) -> Reading {
        let database = match &self.database {
            Some(name) => std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == name)
                })
                .filter_map(|e| e.file_name().to_str().and_then(|p| p.parse().ok()))
                .map(process_ticks)
                .sum(),
            None => 0,
        };
        Reading {
            servers: self.pids.iter().map(|p| process_ticks(*p)).collect(),
            database,
            at: Instant::now(),
        }
    }

    /// Each server's share of a core since `before`, and the database's (`-` without one).
    pub fn since(&self, before: &Reading) -> (Vec<String>, String) {
        let after = self.read();
        let wall = after.at.duration_since(before.at).as_secs_f64();
        let share =
            |b: u64, a: u64| format!("{:.0} %", a.saturating_sub(b) as f64 / TICKS / wall * 100.0);
        let servers = before
            .servers
            .iter()
            .zip(&after.servers)
            .map(|(b, a)| share(*b, *a))
            .collect();
        let database = match self.database {
            Some(_) => share(before.database, after.database),
            None => "-".to_owned(),
        };
        (servers, database)
    }
}

/// utime + stime of a process, in clock ticks.
fn process_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // utime, stime are fields 14 and 15 (1-based) of the whole line: 11 and 12 after ')'.
    [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum()
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
const TICKS: f64 = 100.0;
