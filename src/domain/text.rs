//! Vietnamese text as the hub stores and compares it.
//!
//! Stored text is NFC and otherwise untouched, so published wording round-trips byte for
//! byte. Comparison and search use a *search key*: the text folded to lowercase ASCII-ish
//! letters with tone marks and diacritics removed and `đ` mapped to `d`, so that
//! "xoai cao lanh", "XOÀI CÁT CHU CAO LÃNH" and an NFD-encoded "Xoài" all meet.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Text in Unicode Normalization Form C, the form the hub stores.
pub fn to_nfc(text: &str) -> String {
    text.nfc().collect()
}

/// Folds text into its search key: NFD, combining marks dropped, `đ`/`Đ` to `d`,
/// lowercase, runs of whitespace and punctuation collapsed to one space, trimmed.
pub fn search_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            _ => c,
        };
        if c.is_alphanumeric() {
            if pending_space && !key.is_empty() {
                key.push(' ');
            }
            pending_space = false;
            key.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    key
}

/// A `LIKE` pattern matching any key that contains `key`, with `\` as the escape
/// character, so user input cannot smuggle in wildcards.
pub fn contains_pattern(key: &str) -> String {
    let mut pattern = String::with_capacity(key.len() + 2);
    pattern.push('%');
    for c in key.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How well a record's keys match a search key: lower is better, `None` is no match.
/// Exact match, then the key starting with the query, then the query as a run of whole
/// words, then every query word starting a word of the key, then every query word
/// somewhere in the key ("xoai cao lanh" finds "xoai cat chu cao lanh").
pub fn match_rank<'a>(query: &str, keys: impl IntoIterator<Item = &'a str>) -> Option<u8> {
    let words: Vec<&str> = query.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return None;
    }
    keys.into_iter()
        .filter_map(|key| {
            let key_words: Vec<&str> = key.split(' ').collect();
            if key == query {
                Some(0)
            } else if key.starts_with(query) {
                Some(1)
            } else if key_words
                .windows(words.len())
                .any(|run| run.iter().zip(&words).all(|(k, q)| k == q))
            {
                Some(2)
            } else if words
                .iter()
                .all(|w| key_words.iter().any(|k| k.starts_with(w)))
            {
                Some(3)
            } else if words.iter().all(|w| key.contains(w)) {
                Some(4)
            } else {
                None
            }
        })
        .min()
}

/// The query's words, for a SQL pre-filter where each must appear in the key.
pub fn query_words(query_key: &str) -> Vec<&str> {
    query_key.split(' ').filter(|w| !w.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_key_drops_tone_marks_and_maps_d_with_stroke() {
        assert_eq!(search_key("Xoài Cát Chu Cao Lãnh"), "xoai cat chu cao lanh");
        assert_eq!(search_key("ĐỒNG THÁP"), "dong thap");
        assert_eq!(search_key("Sở KHCN"), "so khcn");
    }

    #[test]
    fn search_key_is_the_same_for_nfc_and_nfd_input() {
        let nfc = "Quýt Hồng Lai Vung";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc.as_bytes(), nfd.as_bytes());
        assert_eq!(search_key(nfc), search_key(&nfd));
    }

    #[test]
    fn search_key_collapses_punctuation_and_spaces() {
        assert_eq!(search_key("  Sở NN&PTNT; (Tỉnh) "), "so nn ptnt tinh");
        assert_eq!(search_key("“MADE IN DONG THAP”"), "made in dong thap");
    }

    #[test]
    fn to_nfc_composes_decomposed_text() {
        let nfd: String = "Lãnh".nfd().collect();
        assert_eq!(to_nfc(&nfd), "Lãnh");
    }

    #[test]
    fn contains_pattern_escapes_like_wildcards() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn match_rank_prefers_exact_then_prefix_then_words() {
        assert_eq!(match_rank("so khcn", ["so khcn"]), Some(0));
        assert_eq!(match_rank("so", ["so khcn"]), Some(1));
        assert_eq!(match_rank("khcn", ["so khcn"]), Some(2));
        assert_eq!(
            match_rank("xoai cao lanh", ["xoai cat chu cao lanh"]),
            Some(3)
        );
        assert_eq!(match_rank("hcn", ["so khcn"]), Some(4));
        assert_eq!(match_rank("tai chinh", ["so khcn"]), None);
        assert_eq!(match_rank("", ["so khcn"]), None);
    }
}
