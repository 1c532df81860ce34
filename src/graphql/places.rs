//! Đồng Tháp's districts as records name them (see `domain::places`).

use async_graphql::{Object, SimpleObject};

use crate::domain::places::{DISTRICTS, PROVINCE_NAME};

/// A district-level unit of Đồng Tháp as it was until the 1 July 2025 reorganisation
/// (the district level was abolished and the province merged with Tiền Giang); records
/// of 2022–2025 name these.
#[derive(SimpleObject)]
pub struct District {
    /// Stable code, used by `districtCode` on records and by filters ("lai-vung").
    pub code: &'static str,
    /// Official name with its unit type ("Huyện Lai Vung").
    pub name: &'static str,
    /// The name without the unit type.
    pub short_name: &'static str,
    pub province: &'static str,
    /// The last day the unit existed.
    pub valid_until: &'static str,
}

#[derive(Default)]
pub struct PlaceQuery;

#[Object]
impl PlaceQuery {
    /// The twelve district-level units (three cities, nine districts) records refer to.
    async fn districts(&self) -> Vec<District> {
        DISTRICTS
            .iter()
            .map(|d| District {
                code: d.code,
                name: d.name,
                short_name: d.short_name,
                province: PROVINCE_NAME,
                valid_until: "2025-06-30",
            })
            .collect()
    }
}
