//! Đồng Tháp's administrative units as records were published with them.
//!
//! On 1 July 2025 Vietnam abolished the district level and merged Đồng Tháp with Tiền
//! Giang. Records from 2022–2025 name the old districts, so the hub keeps those units
//! (valid until 30 June 2025) and every record keeps the place names it came with.

use super::text::search_key;

/// A district-level unit of Đồng Tháp before the 2025 reorganisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct District {
    /// Stable slug, e.g. `"lai-vung"`.
    pub code: &'static str,
    /// Official name with its unit type ("Huyện Lai Vung").
    pub name: &'static str,
    /// The name without the unit type ("Lai Vung").
    pub short_name: &'static str,
}

pub const PROVINCE_NAME: &str = "Tỉnh Đồng Tháp";

/// The twelve district-level units (three cities, nine districts) until 30 June 2025.
pub const DISTRICTS: [District; 12] = [
    District {
        code: "tp-cao-lanh",
        name: "Thành phố Cao Lãnh",
        short_name: "Cao Lãnh (thành phố)",
    },
    District {
        code: "tp-sa-dec",
        name: "Thành phố Sa Đéc",
        short_name: "Sa Đéc",
    },
    District {
        code: "tp-hong-ngu",
        name: "Thành phố Hồng Ngự",
        short_name: "Hồng Ngự (thành phố)",
    },
    District {
        code: "tan-hong",
        name: "Huyện Tân Hồng",
        short_name: "Tân Hồng",
    },
    District {
        code: "hong-ngu",
        name: "Huyện Hồng Ngự",
        short_name: "Hồng Ngự",
    },
    District {
        code: "tam-nong",
        name: "Huyện Tam Nông",
        short_name: "Tam Nông",
    },
    District {
        code: "thanh-binh",
        name: "Huyện Thanh Bình",
        short_name: "Thanh Bình",
    },
    District {
        code: "thap-muoi",
        name: "Huyện Tháp Mười",
        short_name: "Tháp Mười",
    },
    District {
        code: "cao-lanh",
        name: "Huyện Cao Lãnh",
        short_name: "Cao Lãnh",
    },
    District {
        code: "lap-vo",
        name: "Huyện Lấp Vò",
        short_name: "Lấp Vò",
    },
    District {
        code: "lai-vung",
        name: "Huyện Lai Vung",
        short_name: "Lai Vung",
    },
    District {
        code: "chau-thanh",
        name: "Huyện Châu Thành",
        short_name: "Châu Thành",
    },
];

/// Unit-type words a district name may be written with.
const UNIT_PREFIXES: [&str; 5] = ["thanh pho ", "tp ", "thi xa ", "huyen ", "quan "];

/// The keys a district name is matched by: the folded name without its unit type,
/// plus, for cities, the name with it ("thanh pho cao lanh" ≠ "huyen cao lanh").
pub fn district_match_key(name: &str) -> String {
    let key = search_key(name);
    let key = key
        .strip_prefix("tinh dong thap ")
        .unwrap_or(&key)
        .to_owned();
    if key.starts_with("thanh pho ") || key.starts_with("tp ") {
        let bare = key
            .strip_prefix("thanh pho ")
            .or_else(|| key.strip_prefix("tp "))
            .unwrap_or(&key);
        return format!("thanh pho {bare}");
    }
    UNIT_PREFIXES
        .iter()
        .find_map(|prefix| key.strip_prefix(prefix))
        .unwrap_or(&key)
        .to_owned()
}

/// Resolves a district as people write it ("Lai Vung", "huyện Lai Vung", "TP. Sa Đéc",
/// "Sa Dec") to the unit it names. A bare "Cao Lãnh" or "Hồng Ngự" means the district
/// (huyện), not the city of the same name, as in official usage.
pub fn find_district(name: &str) -> Option<&'static District> {
    let key = district_match_key(name);
    if key.is_empty() {
        return None;
    }
    DISTRICTS
        .iter()
        .find(|d| district_match_key(d.name) == key)
        .or_else(|| {
            // Cities unique by their bare name (Sa Đéc) match without "thành phố".
            let bare = key.strip_prefix("thanh pho ").unwrap_or(&key);
            let cities: Vec<&District> = DISTRICTS
                .iter()
                .filter(|d| district_match_key(d.name) == format!("thanh pho {bare}"))
                .collect();
            let shadowed = DISTRICTS.iter().any(|d| district_match_key(d.name) == bare);
            match cities.as_slice() {
                [city] if !shadowed => Some(*city),
                _ => None,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_are_found_however_they_are_written() {
        assert_eq!(find_district("Lai Vung").map(|d| d.code), Some("lai-vung"));
        assert_eq!(
            find_district("huyện Lai Vung").map(|d| d.code),
            Some("lai-vung")
        );
        assert_eq!(find_district("LAI VUNG").map(|d| d.code), Some("lai-vung"));
        assert_eq!(
            find_district("Thap Muoi").map(|d| d.code),
            Some("thap-muoi")
        );
        assert_eq!(
            find_district("TP Sa Đéc").map(|d| d.code),
            Some("tp-sa-dec")
        );
        assert_eq!(find_district("Sa Đéc").map(|d| d.code), Some("tp-sa-dec"));
    }

    #[test]
    fn a_bare_name_shared_by_a_city_and_a_district_means_the_district() {
        assert_eq!(find_district("Cao Lãnh").map(|d| d.code), Some("cao-lanh"));
        assert_eq!(
            find_district("Thành phố Cao Lãnh").map(|d| d.code),
            Some("tp-cao-lanh")
        );
        assert_eq!(find_district("Hồng Ngự").map(|d| d.code), Some("hong-ngu"));
    }

    #[test]
    fn unknown_places_are_not_guessed() {
        assert_eq!(find_district("Hà Nội"), None);
        assert_eq!(find_district(""), None);
    }
}
