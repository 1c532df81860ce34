//! The key industries target 5 of the plan refers to (`seed/key-industries.toml`).

use serde::Deserialize;

use super::plan_source::PlanSourceError;
use super::text::search_key;

pub const KEY_INDUSTRIES: &str = include_str!("../../seed/key-industries.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyIndustries {
    pub industries: Vec<KeyIndustry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyIndustry {
    pub name: String,
    /// The public document that lists it.
    pub source: String,
}

impl KeyIndustries {
    pub fn bundled() -> Result<Self, PlanSourceError> {
        Self::parse(KEY_INDUSTRIES)
    }

    pub fn parse(text: &str) -> Result<Self, PlanSourceError> {
        let list: KeyIndustries = toml::from_str(text)?;
        for industry in &list.industries {
            if industry.name.trim().is_empty() || industry.source.trim().is_empty() {
                return Err(PlanSourceError::Invalid {
                    at: format!("key industry {:?}", industry.name),
                    message: "a key industry needs a name and a source".to_owned(),
                });
            }
        }
        Ok(list)
    }

    /// The names folded as industries are matched (case and tone marks ignored).
    pub fn keys(&self) -> Vec<String> {
        self.industries
            .iter()
            .map(|i| search_key(&i.name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_list_reads_and_an_unsourced_industry_is_refused() {
        KeyIndustries::bundled().unwrap();
        let listed = KeyIndustries::parse(
            "[[industries]]\nname = \"Chế biến Thực phẩm\"\nsource = \"QĐ\"\n",
        )
        .unwrap();
        assert_eq!(listed.keys(), [search_key("chế biến thực phẩm")]);
        let error =
            KeyIndustries::parse("[[industries]]\nname = \"Cơ khí\"\nsource = \"\"\n").unwrap_err();
        assert!(error.to_string().contains("source"), "{error}");
    }
}
