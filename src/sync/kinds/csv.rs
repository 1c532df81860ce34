//! `csv`: a CSV (or XLSX) file over HTTP or from disk. The download is streamed to a
//! temporary file (memory stays flat whatever its size), a CSV's encoding found (UTF-8
//! with or without BOM, else Windows-1258), and rows are read in batches, each value
//! NFC-normalised. XLSX workbooks are read with calamine, one worksheet at a time.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use serde_json::{Map, Value};

use super::{Page, RawRow, Source};
use crate::domain::text::to_nfc;
use crate::sync::definition::{Csv, Encoding, TableFormat};
use crate::sync::error::SyncError;
use crate::sync::http::{Fetcher, Validators};

/// The rows of an open file, each a list of cell texts.
pub type Rows = Box<dyn Iterator<Item = Result<Vec<String>, SyncError>> + Send>;

pub struct CsvSource {
    fetcher: Fetcher,
    url: Option<String>,
    options: Csv,
    open: Option<(Rows, Vec<String>, u64)>,
    previous: Validators,
    current: Validators,
    not_modified: bool,
    // Kept alive while the reader uses it.
    _download: Option<tempfile::NamedTempFile>,
}

impl CsvSource {
    /// `previous` are the validators of the last complete run's download; they make the
    /// next download conditional.
    pub fn new(fetcher: Fetcher, url: Option<String>, options: Csv, previous: Validators) -> Self {
        Self {
            fetcher,
            url,
            options,
            open: None,
            previous,
            current: Validators::default(),
            not_modified: false,
            _download: None,
        }
    }

    async fn file(&mut self) -> Result<File, SyncError> {
        if let Some(path) = &self.options.file {
            return File::open(path)
                .map_err(|e| SyncError::Registry(format!("cannot read {}: {e}", path.display())));
        }
        let url = self
            .url
            .clone()
            .ok_or_else(|| SyncError::Config("a csv connector needs a url or a file".into()))?;
        let mut download = tempfile::NamedTempFile::new()
            .map_err(|e| SyncError::Registry(format!("cannot make a temporary file: {e}")))?;
        let downloaded = self
            .fetcher
            .download(&url, download.as_file_mut(), &self.previous)
            .await?;
        self.not_modified = downloaded.not_modified;
        self.current = downloaded.validators;
        let file = download
            .reopen()
            .map_err(|e| SyncError::Registry(format!("cannot reopen the download: {e}")))?;
        self._download = Some(download);
        Ok(file)
    }

    fn format(&self) -> TableFormat {
        if let Some(format) = self.options.format {
            return format;
        }
        let name = self
            .options
            .file
            .as_ref()
            .map(|f| f.to_string_lossy().into_owned())
            .or_else(|| self.url.clone())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let path = name.split(['?', '#']).next().unwrap_or_default();
        if path.ends_with(".xlsx") {
            TableFormat::Xlsx
        } else {
            TableFormat::Csv
        }
    }

    async fn open(&mut self, skip: u64) -> Result<(), SyncError> {
        let file = self.file().await?;
        if self.not_modified {
            self.open = Some((Box::new(std::iter::empty()), Vec::new(), skip));
            return Ok(());
        }
        let (headers, mut rows) = match self.format() {
            TableFormat::Csv => self.csv_rows(file)?,
            TableFormat::Xlsx => self.xlsx_rows(file)?,
        };
        for _ in 0..skip {
            match rows.next() {
                Some(row) => {
                    row?;
                }
                None => break,
            }
        }
        self.open = Some((rows, headers, skip));
        Ok(())
    }

    fn csv_rows(&self, file: File) -> Result<(Vec<String>, Rows), SyncError> {
        csv_table(file, self.options.encoding, self.options.delimiter)
    }

    fn xlsx_rows(&self, file: File) -> Result<(Vec<String>, Rows), SyncError> {
        use calamine::{Data, Reader as _, Xlsx};
        let mut workbook = Xlsx::new(std::io::BufReader::new(file))
            .map_err(|e| SyncError::Malformed(format!("the file is not an XLSX workbook: {e}")))?;
        let sheet = match &self.options.sheet {
            Some(sheet) => sheet.clone(),
            None => workbook
                .sheet_names()
                .first()
                .cloned()
                .ok_or_else(|| SyncError::Malformed("the workbook has no worksheet".into()))?,
        };
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|e| SyncError::Malformed(format!("cannot read worksheet {sheet:?}: {e}")))?;
        let text = |cell: &Data| -> String {
            match cell {
                Data::Empty | Data::Error(_) => String::new(),
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => to_nfc(s),
                Data::Int(i) => i.to_string(),
                // Whole numbers typed into Excel arrive as floats: 4.0 is "4".
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::Float(f) => f.to_string(),
                Data::Bool(b) => b.to_string(),
                Data::DateTime(d) => d
                    .as_datetime()
                    .map(|dt| {
                        if dt.time() == chrono::NaiveTime::MIN {
                            dt.date().to_string()
                        } else {
                            dt.to_string()
                        }
                    })
                    .unwrap_or_default(),
            }
        };
        let mut rows = range.rows();
        let headers: Vec<String> = rows
            .next()
            .ok_or_else(|| SyncError::Malformed(format!("worksheet {sheet:?} is empty")))?
            .iter()
            .map(|c| text(c).trim().to_owned())
            .collect();
        let body: Vec<Vec<String>> = rows.map(|r| r.iter().map(text).collect()).collect();
        Ok((headers, Box::new(body.into_iter().map(Ok))))
    }
}

/// The header row and the rows of a CSV file: its encoding taken as configured or found
/// (`Encoding::Auto`), a BOM dropped, each cell NFC-normalised. Pure over any seekable
/// input, so the connector's downloads and the fuzz targets read CSV the same way.
pub fn csv_table<R: Read + Seek + Send + 'static>(
    mut input: R,
    encoding: Encoding,
    delimiter: char,
) -> Result<(Vec<String>, Rows), SyncError> {
    let encoding = match encoding {
        Encoding::Utf8 => encoding_rs::UTF_8,
        Encoding::Windows1258 => encoding_rs::WINDOWS_1258,
        Encoding::Auto => detect(&mut input)?,
    };
    input
        .seek(SeekFrom::Start(0))
        .map_err(|e| SyncError::Registry(format!("cannot read the CSV: {e}")))?;
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_sniffing(true)
        .build(input);
    // A non-ASCII character that fits in a byte (é) never occurs alone in the decoded text.
    let delimiter = u8::try_from(u32::from(delimiter))
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| SyncError::Config("csv.delimiter must be one ASCII character".into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(Box::new(decoded) as Box<dyn Read + Send>);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| SyncError::Malformed(format!("the CSV has no readable header row: {e}")))?
        .iter()
        .map(|h| to_nfc(h.trim()))
        .collect();
    let rows = reader.into_records().enumerate().map(|(i, record)| {
        record
            .map(|r| r.iter().map(to_nfc).collect())
            .map_err(|e| SyncError::Malformed(format!("CSV line {}: {e}", i + 2)))
    });
    Ok((headers, Box::new(rows)))
}

/// UTF-8 when the whole file decodes as UTF-8 (a BOM is allowed), Windows-1258 otherwise.
fn detect(file: &mut impl Read) -> Result<&'static encoding_rs::Encoding, SyncError> {
    let mut decoder = encoding_rs::UTF_8.new_decoder_without_bom_handling();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut out = String::with_capacity(256 * 1024);
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| SyncError::Registry(format!("cannot read the CSV: {e}")))?;
        let last = read == 0;
        out.clear();
        let (result, _) =
            decoder.decode_to_string_without_replacement(&buffer[..read], &mut out, last);
        if let encoding_rs::DecoderResult::Malformed(_, _) = result {
            return Ok(encoding_rs::WINDOWS_1258);
        }
        if last {
            return Ok(encoding_rs::UTF_8);
        }
    }
}

impl Source for CsvSource {
    fn unchanged(&self) -> bool {
        self.not_modified
    }

    fn validators(&self) -> Validators {
        self.current.clone()
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SyncError> {
        let skip: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        if self.open.as_ref().is_none_or(|(_, _, at)| *at != skip) {
            self.open(skip).await?;
        }
        let Some((reader, headers, at)) = self.open.as_mut() else {
            return Ok(Page::default());
        };
        let mut rows = Vec::with_capacity(self.options.batch_size);
        let mut more = true;
        while rows.len() < self.options.batch_size.max(1) {
            let line = *at + 2;
            let record = match reader.next() {
                Some(record) => record?,
                None => {
                    more = false;
                    break;
                }
            };
            *at += 1;
            let mut row = Map::new();
            for (name, value) in headers.iter().zip(record) {
                row.insert(name.clone(), Value::String(value));
            }
            rows.push(RawRow {
                position: format!("line {line}"),
                value: Value::Object(row),
            });
        }
        let next = *at;
        if !more {
            self.open = None;
        }
        Ok(Page {
            rows,
            next: more.then(|| next.to_string()),
            watermark: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn table(bytes: &[u8], encoding: Encoding, delimiter: char) -> (Vec<String>, Vec<Vec<String>>) {
        let (headers, rows) = csv_table(Cursor::new(bytes.to_vec()), encoding, delimiter).unwrap();
        (headers, rows.map(Result::unwrap).collect())
    }

    #[test]
    fn utf8_with_a_bom_and_windows_1258_read_alike() {
        let expected = (
            vec!["ma".to_owned(), "ten".to_owned()],
            vec![vec!["1".to_owned(), "Xoài".to_owned()]],
        );
        assert_eq!(
            table("\u{feff}ma,ten\n1,Xoài\n".as_bytes(), Encoding::Auto, ','),
            expected
        );
        // Windows-1258 writes the grave accent as a combining mark (0xCC) after the letter.
        assert_eq!(
            table(b"ma;ten\r\n1;Xoa\xcci\r\n", Encoding::Auto, ';'),
            expected
        );
    }

    #[test]
    fn a_delimiter_outside_ascii_is_refused() {
        // 'é' fits in a byte but never occurs as one in the decoded (UTF-8) text.
        for delimiter in ['é', '→'] {
            let refused = csv_table(Cursor::new(b"a,b\n".to_vec()), Encoding::Auto, delimiter);
            assert!(
                matches!(refused, Err(SyncError::Config(_))),
                "{delimiter:?}"
            );
        }
    }
}
