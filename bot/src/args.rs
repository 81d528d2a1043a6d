//! Typed command arguments, parsed from the words after the command name.

use std::fmt;

use twitch::UserLogin;

/// The words of a message after the command, consumed left to right by
/// [`Arg`] implementations.
#[derive(Debug, Clone)]
pub struct Args<'a> {
    rest: &'a str,
}

impl<'a> Args<'a> {
    /// The arguments of `text` (everything after the command name).
    pub fn new(text: &'a str) -> Self {
        Self { rest: text.trim_start() }
    }

    /// The next whitespace-separated word, if any.
    pub fn word(&mut self) -> Option<&'a str> {
        let rest = self.rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        self.rest = after.trim_start();
        Some(word)
    }

    /// Everything not consumed yet, trimmed.
    pub fn rest(&mut self) -> &'a str {
        let rest = self.rest.trim();
        self.rest = "";
        rest
    }

    /// Nothing is left.
    pub fn is_empty(&self) -> bool {
        self.rest.trim().is_empty()
    }
}

/// Why the arguments did not parse: which one, what was expected, what came.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArgError {
    /// What the argument should have been, e.g. `an integer`.
    pub expected: &'static str,
    /// The word that did not fit (`None`: the argument was missing).
    pub found: Option<String>,
}

impl ArgError {
    /// A missing argument.
    pub fn missing(expected: &'static str) -> Self {
        Self { expected, found: None }
    }

    /// A word that does not fit.
    pub fn invalid(expected: &'static str, found: &str) -> Self {
        Self { expected, found: Some(found.to_owned()) }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.found {
            None => write!(f, "missing {}", self.expected),
            Some(w) => write!(f, "expected {}, got `{w}`", self.expected),
        }
    }
}

impl std::error::Error for ArgError {}

/// A type a command can take as an argument.
///
/// Implemented for `String` (one word), the integer types, `f64`, `bool`,
/// [`UserLogin`] (`@login` or `login`), [`Rest`] (the rest of the line) and
/// `Option<T>` (absent is `None`). Implement it for your own types to parse
/// them the same way.
pub trait Arg: Sized + Send + 'static {
    /// Take this argument from the front of `args`.
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError>;

    /// How the help listing shows it: `<number>`, `[user]`, `<text...>`.
    fn usage() -> &'static str;
}

impl Arg for String {
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
        args.word().map(str::to_owned).ok_or(ArgError::missing("a word"))
    }

    fn usage() -> &'static str {
        "<word>"
    }
}

macro_rules! number_arg {
    ($($t:ty => $what:literal),*) => {$(
        impl Arg for $t {
            fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
                let w = args.word().ok_or(ArgError::missing($what))?;
                w.parse().map_err(|_| ArgError::invalid($what, w))
            }

            fn usage() -> &'static str {
                "<number>"
            }
        }
    )*};
}

number_arg!(
    u8 => "a number from 0 to 255",
    u16 => "a number from 0 to 65535",
    u32 => "a whole number, not below 0",
    u64 => "a whole number, not below 0",
    i32 => "a whole number",
    i64 => "a whole number",
    usize => "a whole number, not below 0"
);

/// A finite number: `NaN`, `inf` and `infinity`, which Rust's parser takes,
/// are no number a chatter means.
impl Arg for f64 {
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
        const WHAT: &str = "a number";
        let w = args.word().ok_or(ArgError::missing(WHAT))?;
        w.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| ArgError::invalid(WHAT, w))
    }

    fn usage() -> &'static str {
        "<number>"
    }
}

impl Arg for bool {
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
        const WHAT: &str = "yes or no";
        let w = args.word().ok_or(ArgError::missing(WHAT))?;
        match w.to_ascii_lowercase().as_str() {
            "yes" | "y" | "on" | "true" | "1" => Ok(true),
            "no" | "n" | "off" | "false" | "0" => Ok(false),
            _ => Err(ArgError::invalid(WHAT, w)),
        }
    }

    fn usage() -> &'static str {
        "<yes|no>"
    }
}

/// A user named in chat: `@login` or `login`, lowercased. Twitch logins are
/// 1 to 25 letters, digits and underscores.
impl Arg for UserLogin {
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
        const WHAT: &str = "a user (@login)";
        let w = args.word().ok_or(ArgError::missing(WHAT))?;
        let login = w.strip_prefix('@').unwrap_or(w);
        let valid = (1..=25).contains(&login.len()) && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ArgError::invalid(WHAT, w));
        }
        Ok(UserLogin::from(login.to_ascii_lowercase()))
    }

    fn usage() -> &'static str {
        "<@user>"
    }
}

/// The rest of the line, as typed (at least one character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rest(pub String);

impl Arg for Rest {
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
        match args.rest() {
            "" => Err(ArgError::missing("some text")),
            r => Ok(Rest(r.to_owned())),
        }
    }

    fn usage() -> &'static str {
        "<text...>"
    }
}

impl std::ops::Deref for Rest {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Absent is `None`; present but not parseable is still an error, so a typo
/// is not silently taken as "not given".
impl<T: Arg> Arg for Option<T> {
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError> {
        if args.is_empty() { Ok(None) } else { T::parse(args).map(Some) }
    }

    fn usage() -> &'static str {
        // `[..]` around T's usage; the common cases spelled out.
        match T::usage() {
            "<word>" => "[word]",
            "<number>" => "[number]",
            "<@user>" => "[@user]",
            "<text...>" => "[text...]",
            "<yes|no>" => "[yes|no]",
            _ => "[...]",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_numbers_users_and_the_rest() {
        let mut a = Args::new("  6  @SomeOne  hello   there ");
        assert_eq!(u32::parse(&mut a), Ok(6));
        assert_eq!(UserLogin::parse(&mut a).unwrap(), "someone");
        assert_eq!(Rest::parse(&mut a), Ok(Rest("hello   there".into())));
        assert!(a.is_empty());
        assert_eq!(Option::<u32>::parse(&mut a), Ok(None));
    }

    #[test]
    fn errors_name_what_was_expected() {
        let mut a = Args::new("six");
        let e = u32::parse(&mut a).unwrap_err();
        assert_eq!(e.to_string(), "expected a whole number, not below 0, got `six`");
        assert_eq!(u32::parse(&mut a).unwrap_err().to_string(), "missing a whole number, not below 0");
        assert!(UserLogin::parse(&mut Args::new("@no-dashes")).is_err());
        // A typo in an optional argument is an error, not "absent".
        assert!(Option::<u8>::parse(&mut Args::new("300")).is_err());
    }
}
