//! Just enough HTML reading for Twitch's reference pages: headings with
//! their ids, and tables as rows of cells (text, nesting depth, first link).
//! Not a general HTML parser: the pages are generated and regular.

/// One thing of interest on a page, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `<h2 id="...">text</h2>` (level 2) or `<h3 ...>` (level 3).
    Heading { level: u8, id: Option<String>, text: String },
    /// A table's body rows (header rows are dropped).
    Table(Vec<Vec<Cell>>),
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Text without tags, entities decoded, trimmed.
    pub text: String,
    /// Nesting level, from the leading spaces Twitch indents nested fields with.
    pub depth: usize,
    /// The first `href` inside the cell.
    pub link: Option<String>,
}

/// Read headings and tables from a page.
pub fn blocks(html: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        let name = tag_name(rest);
        match name.as_str() {
            "h2" | "h3" => {
                let level = if name == "h2" { 2 } else { 3 };
                let open_end = rest.find('>').map(|i| i + 1).unwrap_or(rest.len());
                let id = attr(&rest[..open_end], "id");
                let close = format!("</{name}>");
                let end = rest.find(&close).unwrap_or(rest.len());
                let text = clean(&strip_tags(&rest[open_end.min(end)..end]));
                out.push(Block::Heading { level, id, text });
                rest = &rest[(end + close.len()).min(rest.len())..];
            }
            "table" => {
                let end = rest.find("</table>").unwrap_or(rest.len());
                out.push(Block::Table(rows(&rest[..end])));
                rest = &rest[(end + "</table>".len()).min(rest.len())..];
            }
            _ => rest = &rest[1..],
        }
    }
    out
}

fn tag_name(s: &str) -> String {
    s[1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=\"");
    let i = tag.find(&pat)? + pat.len();
    let j = tag[i..].find('"')? + i;
    Some(decode_entities(&tag[i..j]))
}

fn rows(table: &str) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for tr in table.split("<tr").skip(1) {
        let tr = tr.split("</tr>").next().unwrap_or("");
        if tr.contains("<th") {
            continue;
        }
        let cells: Vec<Cell> = tr
            .split("<td")
            .skip(1)
            .map(|td| {
                let body = td.split_once('>').map(|(_, b)| b).unwrap_or("");
                let body = body.split("</td>").next().unwrap_or("");
                let text = decode_entities(&strip_tags(body));
                let lead = text.chars().take_while(|c| c.is_whitespace()).count();
                Cell { text: clean(&text), depth: lead / 3, link: attr(body, "href") }
            })
            .collect();
        if !cells.is_empty() {
            rows.push(cells);
        }
    }
    rows
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Collapse whitespace (including no-break and zero-width spaces) and trim.
fn clean(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{200b}').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16).ok().and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headings_and_nested_rows() {
        let html = r##"<h2 id="get-x">Get X</h2><h3>Response Body</h3>
        <table><thead><tr><th>Field</th></tr></thead><tbody>
        <tr><td>data</td><td>Object[]</td></tr>
        <tr><td>&nbsp;&nbsp;&nbsp;<code>id</code></td><td><a href="#thing">String</a></td></tr>
        </tbody></table>"##;
        let b = blocks(html);
        assert_eq!(b[0], Block::Heading { level: 2, id: Some("get-x".into()), text: "Get X".into() });
        let Block::Table(rows) = &b[2] else { panic!("{b:?}") };
        assert_eq!(rows[1][0], Cell { text: "id".into(), depth: 1, link: None });
        assert_eq!(rows[1][1].link.as_deref(), Some("#thing"));
    }
}
