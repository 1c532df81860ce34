//! Aggregates: records grouped by dimensions and counted, with sums, averages, minima
//! and maxima of numeric fields. The grouping runs in SQL (see `store::aggregate`); this
//! module holds what a dimension and a metric are, and how a group's key reads.

use super::filter::Filter;

/// A part of a date a dimension groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    /// `2024`
    Year,
    /// `2024-Q1`
    Quarter,
    /// `2024-03`
    Month,
}

/// What a dimension's value is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grouping {
    /// A column's value, as text.
    Column(&'static str),
    /// Part of a date column. Times with an offset are read in Vietnam's time (UTC+7,
    /// no daylight saving), so an event at 23:30 on 31 March local time is March's.
    Date {
        column: &'static str,
        part: DatePart,
        with_time: bool,
    },
}

/// How a group's value is turned into a readable label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Labels {
    /// The value is its own label.
    Value,
    /// A district code ("lai-vung") read as the district's name.
    District,
    /// An agency id, shown as the agency's code with its name as label.
    Agency,
    /// An organisation id, labelled with the organisation's name.
    Organisation,
    /// A plan section id, shown as its numeral with its title as label.
    Section,
}

/// One dimension a kind can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimension {
    /// The name clients see in `keys.dimension` and export headers (`district`,
    /// `certifiedOnYear`).
    pub name: &'static str,
    pub grouping: Grouping,
    pub labels: Labels,
}

impl Dimension {
    pub const fn column(name: &'static str, column: &'static str) -> Self {
        Self {
            name,
            grouping: Grouping::Column(column),
            labels: Labels::Value,
        }
    }

    pub const fn labelled(name: &'static str, column: &'static str, labels: Labels) -> Self {
        Self {
            name,
            grouping: Grouping::Column(column),
            labels,
        }
    }

    pub const fn date(name: &'static str, column: &'static str, part: DatePart) -> Self {
        Self {
            name,
            grouping: Grouping::Date {
                column,
                part,
                with_time: false,
            },
            labels: Labels::Value,
        }
    }

    pub const fn time(name: &'static str, column: &'static str, part: DatePart) -> Self {
        Self {
            name,
            grouping: Grouping::Date {
                column,
                part,
                with_time: true,
            },
            labels: Labels::Value,
        }
    }
}

/// A numeric field whose sum, average, minimum and maximum each group reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Metric {
    /// The name clients see (`stars`, `quantity`).
    pub name: &'static str,
    pub column: &'static str,
}

/// Which of each metric's figures a query reads. Those it does not are not computed: each
/// one is another function over every row of the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Figures {
    pub sum: bool,
    pub avg: bool,
    pub min: bool,
    pub max: bool,
}

impl Figures {
    pub const ALL: Self = Self {
        sum: true,
        avg: true,
        min: true,
        max: true,
    };
}

/// What an aggregate asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateQuery {
    pub filter: Filter,
    pub dimensions: Vec<Dimension>,
    pub metrics: Vec<Metric>,
    pub figures: Figures,
}

/// Sum, average, minimum and maximum of one metric over a group; null when the group
/// has no value for it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    pub sum: Option<f64>,
    pub avg: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// One group: its value for each dimension (null where the records have none), how
/// many records it holds, and each metric's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub keys: Vec<Option<String>>,
    pub count: i64,
    pub metrics: Vec<Stats>,
}

/// Limits the number of dimensions of one aggregate: each one multiplies the groups.
pub const MAX_DIMENSIONS: usize = 4;

/// Dimensions and metrics without repeats, in the order asked, or what is wrong.
pub fn check_query(dimensions: &[Dimension], metrics: &[Metric]) -> Result<(), String> {
    if dimensions.len() > MAX_DIMENSIONS {
        return Err(format!(
            "groupBy: at most {MAX_DIMENSIONS} dimensions, {} given",
            dimensions.len()
        ));
    }
    for (i, d) in dimensions.iter().enumerate() {
        if dimensions[..i].contains(d) {
            return Err(format!("groupBy[{i}]: {} is given twice", d.name));
        }
    }
    for (i, m) in metrics.iter().enumerate() {
        if metrics[..i].contains(m) {
            return Err(format!("metrics[{i}]: {} is given twice", m.name));
        }
    }
    Ok(())
}

/// The quarter label for a month (`2024`, 3 → `2024-Q1`).
pub fn quarter_label(year: i32, month: u32) -> String {
    format!("{year}-Q{}", month.div_ceil(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTRICT: Dimension = Dimension::column("district", "district_code");
    const STARS: Dimension = Dimension::column("stars", "stars");
    const STARS_METRIC: Metric = Metric {
        name: "stars",
        column: "stars",
    };

    #[test]
    fn repeated_or_too_many_dimensions_are_refused() {
        assert!(check_query(&[DISTRICT, STARS], &[STARS_METRIC]).is_ok());
        let twice = check_query(&[DISTRICT, STARS, DISTRICT], &[]).unwrap_err();
        assert!(
            twice.contains("groupBy[2]") && twice.contains("district"),
            "{twice}"
        );
        let five = check_query(&[DISTRICT; 5], &[]).unwrap_err();
        assert!(five.contains("at most 4"), "{five}");
        let metric = check_query(&[], &[STARS_METRIC, STARS_METRIC]).unwrap_err();
        assert!(metric.contains("metrics[1]"), "{metric}");
    }

    #[test]
    fn quarters_are_numbered_from_january() {
        assert_eq!(quarter_label(2024, 1), "2024-Q1");
        assert_eq!(quarter_label(2024, 3), "2024-Q1");
        assert_eq!(quarter_label(2024, 4), "2024-Q2");
        assert_eq!(quarter_label(2025, 12), "2025-Q4");
    }
}
