//! The `Scope` enum.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::doc;
use crate::model::Scope;

/// ```text
/// #[non_exhaustive] pub enum Scope { AnalyticsReadExtensions, ..., Unknown(String) }
/// impl Scope { ALL, as_str(), description(), is_legacy() }
/// impl FromStr, From<&str>, AsRef<str>, PartialEq<str>, Display, Serialize, Deserialize
/// ```
pub fn scope_enum(scopes: &[Scope]) -> TokenStream {
    let variants = scopes.iter().map(|s| {
        let v = format_ident!("{}", s.rust);
        let extra = match s.legacy.as_deref() {
            Some("irc") => " (IRC chat only)",
            Some("pubsub") => " (PubSub only)",
            _ => "",
        };
        let d = doc(&format!("`{}`: {}{extra}", s.name, s.doc));
        quote!(#d #v,)
    });
    let all = scopes.iter().map(|s| format_ident!("{}", s.rust));
    let to_str = scopes.iter().map(|s| {
        let v = format_ident!("{}", s.rust);
        let n = &s.name;
        quote!(Self::#v => #n,)
    });
    let from_str = scopes.iter().map(|s| {
        let v = format_ident!("{}", s.rust);
        let n = &s.name;
        quote!(#n => Self::#v,)
    });
    let descr = scopes.iter().map(|s| {
        let v = format_ident!("{}", s.rust);
        let d = &s.doc;
        quote!(Self::#v => #d,)
    });
    let legacy: Vec<_> = scopes.iter().filter(|s| s.legacy.is_some()).map(|s| format_ident!("{}", s.rust)).collect();
    let is_legacy = if legacy.is_empty() { quote!(false) } else { quote!(matches!(self, #(Self::#legacy)|*)) };
    let count = scopes.len();
    quote! {
        /// An OAuth scope. Unknown scope strings are kept in [`Scope::Unknown`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Scope {
            #(#variants)*
            /// A scope this version of the crate does not know.
            Unknown(String),
        }

        impl Scope {
            /// Every scope the schema knows, in the order of Twitch's docs.
            pub const ALL: [Scope; #count] = [#(Scope::#all),*];

            /// The scope as Twitch spells it, e.g. `channel:read:subscriptions`.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str)*
                    Self::Unknown(s) => s,
                }
            }

            /// A one-line description of what the scope allows.
            pub fn description(&self) -> &'static str {
                match self {
                    #(#descr)*
                    Self::Unknown(_) => "a scope this crate does not know",
                }
            }

            /// The scope only applies to IRC chat or PubSub, not to Helix or EventSub.
            pub fn is_legacy(&self) -> bool {
                #is_legacy
            }
        }

        impl From<&str> for Scope {
            fn from(value: &str) -> Self {
                match value {
                    #(#from_str)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for Scope {
            fn from(value: String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl std::str::FromStr for Scope {
            type Err = std::convert::Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        /// So `Scope`s go wherever scope strings do (`OAuth::authorize_url`, ...).
        impl AsRef<str> for Scope {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        /// Compares with the scope as Twitch spells it.
        impl PartialEq<str> for Scope {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for Scope {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for Scope {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for Scope {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for Scope {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de::string_enum(deserializer, |s: &str| Self::from(s))
            }
        }
    }
}
