//! A small XML writer: elements, attributes and text, every value escaped.

/// XML text being written; element names are trusted constants, values are escaped.
#[derive(Debug, Default)]
pub(super) struct Xml(String);

pub(super) const DECLARATION: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

impl Xml {
    pub(super) fn new() -> Self {
        Self(DECLARATION.to_owned())
    }

    pub(super) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start(name, attrs);
        self.0.push('>');
        self
    }

    pub(super) fn close(&mut self, name: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    pub(super) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start(name, attrs);
        self.0.push_str("/>");
        self
    }

    /// `<name w:val="value"/>`, the commonest WordprocessingML element.
    pub(super) fn val(&mut self, name: &str, value: &str) -> &mut Self {
        self.empty(name, &[("w:val", value)])
    }

    /// An element holding only text.
    pub(super) fn element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(name, attrs);
        self.text(text);
        self.close(name)
    }

    pub(super) fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.0, text, false);
        self
    }

    pub(super) fn finish(self) -> String {
        self.0
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.0.push('<');
        self.0.push_str(name);
        for (key, value) in attrs {
            self.0.push(' ');
            self.0.push_str(key);
            self.0.push_str("=\"");
            escape_into(&mut self.0, value, true);
            self.0.push('"');
        }
    }
}

fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            // Kept literally, a line break in an attribute would be read back as a space.
            '\n' if attribute => out.push_str("&#10;"),
            _ => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut xml = Xml::default();
        xml.element("a", &[("k", "\"<'&\n>")], "x < y & \"z\" 'ộ'");
        assert_eq!(
            xml.finish(),
            "<a k=\"&quot;&lt;&apos;&amp;&#10;&gt;\">x &lt; y &amp; \"z\" 'ộ'</a>"
        );
    }

    #[test]
    fn empty_and_val_elements_close_themselves() {
        let mut xml = Xml::default();
        xml.open("w:rPr", &[])
            .val("w:sz", "28")
            .empty("w:b", &[])
            .close("w:rPr");
        assert_eq!(xml.finish(), "<w:rPr><w:sz w:val=\"28\"/><w:b/></w:rPr>");
    }
}
