//! Lengths and sizes as WordprocessingML writes them.

/// Millimetres to twentieths of a point, as WordprocessingML writes lengths.
pub(super) fn twips(mm: f32) -> String {
    ((mm * 1440.0 / 25.4).round() as i64).to_string()
}

/// Points to the half-points of `w:sz`.
pub(super) fn half_points(pt: f32) -> String {
    ((pt * 2.0).round() as i64).to_string()
}
