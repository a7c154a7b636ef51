//! Latency and status counts of one scenario, and its row of the results table.

use std::time::Duration;

/// What one scenario measured.
pub struct Stats {
    count: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    statuses: Vec<(u16, usize)>,
}

impl Stats {
    /// The table's header, matching [`Stats::row`].
    pub const HEADER: &str = "| scenario | requests | req/s | p50 ms | p99 ms | CPU: server + client (% of a core) | CPU: database | statuses |\n|---|---|---|---|---|---|---|---|";

    pub fn from(mut latencies: Vec<(Duration, u16)>, elapsed: Duration) -> Self {
        latencies.sort_by_key(|(d, _)| *d);
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(Duration::ZERO, |(d, _)| *d)
        };
        let mut statuses: Vec<(u16, usize)> = Vec::new();
        for (_, s) in &latencies {
            match statuses.iter_mut().find(|(code, _)| code == s) {
                Some((_, n)) => *n += 1,
                None => statuses.push((*s, 1)),
            }
        }
        Self {
            count: latencies.len(),
            elapsed,
            p50: at(0.5),
            p99: at(0.99),
            statuses,
        }
    }

    pub fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    /// `req/s | p50 ms | p99 ms`, for tables of other shapes.
    pub fn columns(&self) -> String {
        format!(
            "{:.0} | {:.2} | {:.2}",
            self.rate(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        )
    }

    /// The statuses seen, `202×N …`.
    pub fn statuses(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn row(&self, name: &str, this_cpu: &str, database_cpu: &str) -> String {
        format!(
            "| {name} | {} | {} | {this_cpu} | {database_cpu} | {} |",
            self.count,
            self.columns(),
            self.statuses()
        )
    }
}
