//! Sizes of batched statements.

/// Bound parameters one statement may carry: under SQLite's 32,766 (PostgreSQL allows
/// 65,535). Fewer, larger statements mean fewer round trips per page.
pub const MAX_PARAMS: usize = 30_000;

/// Values per `IN (…)` list.
pub const CHUNK: usize = 2_000;

/// Rows per multi-row insert into a table of `columns` columns.
pub fn rows_per_insert(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).clamp(1, CHUNK)
}
