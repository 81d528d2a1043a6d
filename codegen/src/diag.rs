//! Diagnostics: every problem names its file, line, item and what is wrong.

use std::fmt;

/// One problem found in the schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// `schema/helix/users.yaml`
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// The item's id (`get-users`, `channel.follow v2`, `User.id`); may be empty.
    pub item: String,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, line: usize, item: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), line, item: item.into(), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.item.is_empty() {
            write!(f, " {}", self.item)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found in one run, in file and line order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn one(d: Diagnostic) -> Self {
        Self(vec![d])
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn sorted(mut self) -> Self {
        self.0.sort();
        self.0.dedup();
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        write!(f, "{} error{} in the schema", self.0.len(), if self.0.len() == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}
