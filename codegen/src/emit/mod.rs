//! Stage 4: small pure functions from the model to token streams.
//!
//! Generated code reaches the hand-written crates through `crate::__rt`
//! (`twitch-base` in `twitch-models`; in `twitch` the runtime, which
//! re-exports the base under the same paths) and user-facing types through
//! `crate::` so that paths stay short in the output.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Field, Schema, Ty};

pub mod endpoint;
pub mod event;
#[cfg(feature = "maintainer")]
pub mod examples;
pub mod features;
pub mod meta;
pub mod model;
pub mod scope;

/// `foo` → `foo`, but `r#type` never happens: keywords were rejected by validation.
pub fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// `#[doc = "..."]` lines for a text; each line gets a leading space so the
/// rendered comment reads `/// text`.
/// `#[deprecated(note = ..)]` when the schema marks the item deprecated:
/// users see the warning where they name it (the crate itself allows its
/// own uses).
pub fn deprecated(note: Option<&str>) -> TokenStream {
    match note {
        Some(n) => {
            let n = format!("deprecated by Twitch: {n}");
            quote::quote!(#[deprecated(note = #n)])
        }
        None => TokenStream::new(),
    }
}

/// `crate::Lifecycle { .. }` for the metadata tables.
pub fn lifecycle(l: &crate::model::Lifecycle) -> TokenStream {
    if l.is_empty() {
        return quote!(crate::Lifecycle::NONE);
    }
    let opt = |d: &Option<String>| match d {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    let (beta, ga, added, deprecated, withdrawn) =
        (opt(&l.beta), opt(&l.ga), opt(&l.added), opt(&l.deprecated), opt(&l.withdrawn));
    quote!(crate::Lifecycle { beta: #beta, ga: #ga, added: #added, deprecated: #deprecated, withdrawn: #withdrawn })
}

pub fn doc(text: &str) -> TokenStream {
    let lines: Vec<String> = text.trim().lines().map(|l| format!(" {}", l.trim_end())).collect();
    quote! { #( #[doc = #lines] )* }
}

/// The Rust type of a schema type, as seen from module `from`.
pub fn ty(schema: &Schema, t: &Ty, from: &[String]) -> TokenStream {
    match t {
        Ty::String => quote!(String),
        Ty::Secret => quote!(crate::Secret),
        Ty::UserId => quote!(crate::UserId),
        Ty::UserLogin => quote!(crate::UserLogin),
        Ty::Integer => quote!(i64),
        Ty::Unsigned(crate::model::UInt::U8) => quote!(u8),
        Ty::Unsigned(crate::model::UInt::U16) => quote!(u16),
        Ty::Unsigned(crate::model::UInt::U32) => quote!(u32),
        Ty::Unsigned(crate::model::UInt::U64) => quote!(u64),
        Ty::Number => quote!(f64),
        Ty::Boolean => quote!(bool),
        Ty::Timestamp => quote!(crate::Timestamp),
        Ty::Duration(_) => quote!(std::time::Duration),
        Ty::Json => quote!(serde_json::Value),
        Ty::Vec(inner) => {
            let inner = ty(schema, inner, from);
            quote!(Vec<#inner>)
        }
        Ty::Named(n) => named(schema, n, from),
        Ty::Id(kind) => {
            let t = format_ident!("{}", crate::model::id_type_name(kind));
            quote!(crate::ids::#t)
        }
    }
}

/// The `twitch::ids` module: one string newtype per kind of id.
pub fn ids(schema: &Schema) -> TokenStream {
    let items = schema.ids.iter().map(|k| {
        let name = format_ident!("{}", k.rust);
        let d = doc(&format!("{} (`id:{}` in the schema)", k.doc, k.kind));
        if k.runtime {
            return quote! {
                #d
                pub use crate::__rt::#name;
            };
        }
        quote! {
            crate::__rt::__string_newtype! {
                #d
                #name
            }
        }
    });
    quote! { #(#items)* }
}

/// Path to a named model or enum: bare in its own module, `crate::a::b::Name` elsewhere.
pub fn named(schema: &Schema, name: &str, from: &[String]) -> TokenStream {
    let id = format_ident!("{}", name);
    match schema.types.get(name) {
        Some(info) if info.module != from => {
            let segs = info.module.iter().map(|s| ident(s));
            quote!(crate #( :: #segs )* :: #id)
        }
        _ => quote!(#id),
    }
}

/// The field's full type, with `Option` where it may be absent.
pub fn field_ty(schema: &Schema, f: &Field, from: &[String]) -> TokenStream {
    let t = ty(schema, &f.ty, from);
    if f.option { quote!(Option<#t>) } else { t }
}

/// A type that `impl Into<T>` setters accept, or `T` itself for types
/// where `Into` would only get in the way of inference (numbers, bools).
pub fn setter_arg(schema: &Schema, t: &Ty, from: &[String]) -> TokenStream {
    let inner = ty(schema, t, from);
    match t {
        Ty::Integer | Ty::Unsigned(_) | Ty::Number | Ty::Boolean | Ty::Duration(_) => inner,
        _ => quote!(impl Into<#inner>),
    }
}

/// Expression turning a setter argument into the stored value.
pub fn setter_conv(t: &Ty, v: &Ident) -> TokenStream {
    match t {
        Ty::Integer | Ty::Unsigned(_) | Ty::Number | Ty::Boolean | Ty::Duration(_) => quote!(#v),
        _ => quote!(#v.into()),
    }
}

/// `#[serde(with = ...)]` for a field whose type needs the runtime's help
/// on the wire (durations), else nothing.
pub fn serde_with(f: &Field) -> TokenStream {
    match f.ty {
        Ty::Duration(unit) => {
            let m = unit.serde_module(f.option);
            quote!(#[serde(with = #m)])
        }
        _ => TokenStream::new(),
    }
}

/// Does the type implement `Default` (for lenient decoding of deprecated fields)?
pub fn has_default(t: &Ty) -> bool {
    matches!(
        t,
        Ty::String
            | Ty::Secret
            | Ty::UserId
            | Ty::UserLogin
            | Ty::Integer
            | Ty::Unsigned(_)
            | Ty::Duration(_)
            | Ty::Number
            | Ty::Boolean
            | Ty::Json
            | Ty::Vec(_)
            | Ty::Id(_)
    )
}

/// `#[cfg(feature = "...")]` when a feature gates the item.
pub fn cfg(feature: Option<&str>) -> TokenStream {
    match feature {
        Some(f) => quote!(#[cfg(feature = #f)]),
        None => quote!(),
    }
}

/// `#[cfg(all(feature = "a", feature = "b"))]` for every feature given.
pub fn cfg_all(features: &[Option<&str>]) -> TokenStream {
    let fs: Vec<&str> = features.iter().flatten().copied().collect();
    match fs.as_slice() {
        [] => quote!(),
        [one] => quote!(#[cfg(feature = #one)]),
        many => quote!(#[cfg(all(#(feature = #many),*))]),
    }
}

/// Markdown list of scope groups: `a` or `b`; and `c`.
pub fn scopes_text(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|g| g.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or "))
        .collect::<Vec<_>>()
        .join(", and ")
}
