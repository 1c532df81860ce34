//! The IP rights the plan names (`seed/ip-rights.toml`), as read from disk.

use serde::Deserialize;

use super::plan_source::PlanSourceError;
use super::records::{IpRightKind, IpRightStatus};

pub const IP_RIGHTS: &str = include_str!("../../seed/ip-rights.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpRightsSource {
    pub ip_rights: Vec<IpRightSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpRightSource {
    pub external_id: String,
    pub name: String,
    pub kind: String,
    pub product: Option<String>,
    pub farm_product: bool,
    pub jurisdiction: String,
    pub status: Option<String>,
    pub managing_agency: Option<String>,
    #[serde(default)]
    pub tasks: Vec<String>,
}

impl IpRightsSource {
    pub fn bundled() -> Result<Self, PlanSourceError> {
        let source: IpRightsSource = toml::from_str(IP_RIGHTS)?;
        for right in &source.ip_rights {
            let rule = |message: String| PlanSourceError::Invalid {
                at: format!("ip right {}", right.external_id),
                message,
            };
            IpRightKind::parse(&right.kind).map_err(|e| rule(e.to_string()))?;
            if let Some(status) = &right.status {
                IpRightStatus::parse(status).map_err(|e| rule(e.to_string()))?;
            }
            if right.jurisdiction.len() != 2
                || !right.jurisdiction.chars().all(|c| c.is_ascii_uppercase())
            {
                return Err(rule(format!(
                    "jurisdiction {:?} is not an ISO 3166 code",
                    right.jurisdiction
                )));
            }
        }
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seven_rights_the_plan_names_are_bundled() {
        let source = IpRightsSource::bundled().unwrap();
        assert_eq!(source.ip_rights.len(), 7);
        let gi = source
            .ip_rights
            .iter()
            .find(|r| r.external_id == "gi-cao-lanh-xoai")
            .unwrap();
        assert_eq!(gi.tasks, ["VII.3", "II.3.i", "II.3.ii"]);
        assert!(source.ip_rights.iter().all(|r| r.jurisdiction == "VN"));
    }
}
