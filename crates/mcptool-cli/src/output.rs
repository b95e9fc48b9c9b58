//! Rendering for people: aligned tables, content blocks, saved media; and `--json` printing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use mcptool::protocol::{Content, ResourceContents};
use serde::Serialize;
use serde_json::Value;

use crate::exit::CliError;

/// A table whose columns are padded to their widest cell; the last column is not padded.
#[derive(Debug)]
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row (newlines in cells become spaces).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| c.replace('\n', " ")).collect());
    }

    /// The table as text, one line per row.
    pub(crate) fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::connection("cannot encode the result as JSON").source(e))?;
    println!("{text}");
    Ok(())
}

/// Where binary content goes: nowhere (summarise only) or a directory.
#[derive(Debug)]
pub(crate) struct Media {
    dir: Option<PathBuf>,
    prefix: String,
    count: usize,
}

impl Media {
    /// Saves binary content into `dir`, in files named `<prefix>-<n>.<ext>`.
    pub(crate) fn new(dir: Option<&Path>, prefix: &str) -> Media {
        let prefix: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Media {
            dir: dir.map(Path::to_path_buf),
            prefix,
            count: 0,
        }
    }

    /// Describes base64 `data` of `mime`, saving it when a directory was given.
    fn summarise(
        &mut self,
        kind: &str,
        mime: Option<&str>,
        data: &str,
    ) -> Result<String, CliError> {
        let mime = mime.unwrap_or("application/octet-stream");
        let bytes = base64::engine::general_purpose::STANDARD.decode(data.trim());
        let Ok(bytes) = bytes else {
            return Ok(format!(
                "[{kind} {mime}, invalid base64 of {} chars]",
                data.len()
            ));
        };
        let mut line = format!("[{kind} {mime}, {} bytes", bytes.len());
        if let Some(dir) = &self.dir {
            self.count += 1;
            let path = dir.join(format!(
                "{}-{}.{}",
                self.prefix,
                self.count,
                extension(mime)
            ));
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&path, &bytes))
                .map_err(|e| {
                    CliError::usage(format!("cannot save to {}", path.display()))
                        .hint("check that --save names a writable directory")
                        .source(e)
                })?;
            let _ = write!(line, ", saved to {}", path.display());
        } else {
            line.push_str(", use --save DIR to keep it");
        }
        line.push(']');
        Ok(line)
    }

    /// Renders one content block as text for people.
    pub(crate) fn content(&mut self, content: &Content) -> Result<String, CliError> {
        Ok(match content {
            Content::Text { text, .. } => text.clone(),
            Content::Image {
                data, mime_type, ..
            } => self.summarise("image", Some(mime_type), data)?,
            Content::Audio {
                data, mime_type, ..
            } => self.summarise("audio", Some(mime_type), data)?,
            Content::ResourceLink { uri, name, extra } => {
                let mut line = format!("[link {name}: {uri}");
                if let Some(mime) = extra.get("mimeType").and_then(Value::as_str) {
                    let _ = write!(line, " ({mime})");
                }
                line.push(']');
                line
            }
            Content::Resource { resource, .. } => self.resource(resource)?,
            Content::Unknown(value) => format!("[unknown content] {value}"),
        })
    }

    /// Renders resource contents: text with a heading, blobs summarised.
    pub(crate) fn resource(&mut self, contents: &ResourceContents) -> Result<String, CliError> {
        Ok(match contents {
            ResourceContents::Text {
                uri,
                mime_type,
                text,
                ..
            } => {
                let mime = mime_type.as_deref().unwrap_or("text");
                format!("--- {uri} ({mime})\n{text}")
            }
            ResourceContents::Blob {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "--- {uri}\n{}",
                self.summarise("blob", mime_type.as_deref(), blob)?
            ),
        })
    }
}

/// A file extension for a MIME type.
fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => "bin",
    }
}

/// The first line of `text`, cut to `max` characters.
pub(crate) fn one_line(text: Option<&str>, max: usize) -> String {
    let line = text.unwrap_or("").lines().next().unwrap_or("");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut table = Table::new(&["NAME", "DESCRIPTION"]);
        table.row(vec!["a".into(), "first".into()]);
        table.row(vec!["longer".into(), "second".into()]);
        assert_eq!(
            table.render(),
            "NAME    DESCRIPTION\na       first\nlonger  second\n"
        );
    }

    #[test]
    fn media_is_summarised_with_its_size() {
        let mut media = Media::new(None, "t");
        let image = Content::Image {
            data: "AAEC".into(),
            mime_type: "image/png".into(),
            extra: serde_json::Map::new(),
        };
        let line = media.content(&image).expect("render");
        assert!(line.starts_with("[image image/png, 3 bytes"), "{line}");
    }
}
