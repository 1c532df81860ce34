//! The four Liberation Serif faces the PDF is set in, read from disk once.
//!
//! Liberation Serif has the advance widths of Times New Roman (which the DOCX names), so
//! a line breaks at the same word in both, and it carries every precomposed Vietnamese
//! letter. The files come from Debian's `fonts-liberation2`; they are neither downloaded
//! nor kept in the repository.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::RenderError;

/// The Debian package that provides [`FONT_FILES`].
pub const FONT_PACKAGE: &str = "fonts-liberation2";
/// Where [`FONT_PACKAGE`] installs them.
pub const FONT_DIR: &str = "/usr/share/fonts/truetype/liberation2";
/// Regular, bold, italic, bold italic.
pub const FONT_FILES: [&str; 4] = [
    "LiberationSerif-Regular.ttf",
    "LiberationSerif-Bold.ttf",
    "LiberationSerif-Italic.ttf",
    "LiberationSerif-BoldItalic.ttf",
];

/// The faces of the PDF, in [`FONT_FILES`] order.
#[derive(Clone)]
pub struct Fonts {
    pub(super) faces: [Face; 4],
}

#[derive(Clone)]
pub(super) struct Face {
    pub(super) file: &'static str,
    pub(super) data: Arc<Vec<u8>>,
}

/// The faces a process draws its PDFs with: read from disk by the first PDF, then kept.
/// A failed read is not kept, so installing the package mends it without a restart.
#[derive(Debug, Default)]
pub struct ReportFonts {
    dir: Option<PathBuf>,
    loaded: std::sync::OnceLock<Fonts>,
}

impl ReportFonts {
    /// Faces looked for in `dir` first (see [`Fonts::load`]).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            loaded: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> Result<&Fonts, RenderError> {
        if let Some(fonts) = self.loaded.get() {
            return Ok(fonts);
        }
        let fonts = Fonts::load(self.dir.as_deref())?;
        Ok(self.loaded.get_or_init(|| fonts))
    }
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.faces.iter().map(|face| face.file))
            .finish()
    }
}

impl Fonts {
    /// Reads the faces from `dir` when it holds all four, else from [`FONT_DIR`]. A face
    /// found nowhere is [`RenderError::FontsMissing`], which names the files and the
    /// package to install.
    pub fn load(dir: Option<&Path>) -> Result<Self, RenderError> {
        let searched: Vec<PathBuf> = dir
            .map(Path::to_path_buf)
            .into_iter()
            .chain([PathBuf::from(FONT_DIR)])
            .collect();
        let Some(found) = searched
            .iter()
            .find(|d| FONT_FILES.iter().all(|f| d.join(f).is_file()))
        else {
            let missing = FONT_FILES
                .into_iter()
                .filter(|f| !searched.iter().any(|d| d.join(f).is_file()))
                .collect::<Vec<_>>();
            return Err(RenderError::FontsMissing {
                missing: if missing.is_empty() {
                    FONT_FILES.to_vec()
                } else {
                    missing
                },
                searched,
                package: FONT_PACKAGE,
            });
        };
        Self::from_dir(found)
    }

    /// Reads the four faces from one directory.
    pub fn from_dir(dir: &Path) -> Result<Self, RenderError> {
        let [regular, bold, italic, bold_italic] = FONT_FILES;
        Ok(Self {
            faces: [
                Face::read(dir, regular)?,
                Face::read(dir, bold)?,
                Face::read(dir, italic)?,
                Face::read(dir, bold_italic)?,
            ],
        })
    }
}

impl Face {
    fn read(dir: &Path, file: &'static str) -> Result<Self, RenderError> {
        let path = dir.join(file);
        let data = std::fs::read(&path).map_err(|source| RenderError::FontRead {
            path: path.clone(),
            source,
        })?;
        let data = Arc::new(data);
        let usable = skrifa::FontRef::new(&data).is_ok()
            && krilla::text::Font::new(data.clone().into(), 0).is_some();
        if !usable {
            return Err(RenderError::FontInvalid { path });
        }
        Ok(Self { file, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fonts_name_the_files_and_the_package() {
        let empty = tempfile::tempdir().unwrap();
        // The standard directory may hold the fonts; then only an unusable file fails.
        let error = Fonts::from_dir(empty.path()).unwrap_err();
        assert!(matches!(error, RenderError::FontRead { .. }), "{error}");

        let error = RenderError::FontsMissing {
            missing: FONT_FILES.to_vec(),
            searched: vec![empty.path().to_path_buf(), FONT_DIR.into()],
            package: FONT_PACKAGE,
        }
        .to_string();
        for file in FONT_FILES {
            assert!(error.contains(file), "{error}");
        }
        assert!(error.contains("fonts-liberation2"), "{error}");
    }

    #[test]
    fn a_file_that_is_no_font_is_refused_by_path() {
        let dir = tempfile::tempdir().unwrap();
        for file in FONT_FILES {
            std::fs::write(dir.path().join(file), b"not a font").unwrap();
        }
        let error = Fonts::load(Some(dir.path())).unwrap_err();
        assert!(
            matches!(&error, RenderError::FontInvalid { path } if path.ends_with(FONT_FILES[0])),
            "{error}"
        );
    }

    #[test]
    fn a_directory_without_the_fonts_falls_back_to_the_standard_one() {
        let empty = tempfile::tempdir().unwrap();
        match Fonts::load(Some(empty.path())) {
            Ok(_) => assert!(Path::new(FONT_DIR).join(FONT_FILES[0]).is_file()),
            Err(RenderError::FontsMissing {
                missing, searched, ..
            }) => {
                assert_eq!(missing, FONT_FILES);
                assert_eq!(searched[0], empty.path());
            }
            Err(other) => panic!("{other}"),
        }
    }
}
