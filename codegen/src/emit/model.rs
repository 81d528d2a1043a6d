//! Models (structs) and string enums.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc, field_ty, has_default, ident, setter_arg, setter_conv};
use crate::model::{Enum, Field, Model, Schema, Ty};

/// ```text
/// /// doc
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// #[non_exhaustive]
/// pub struct Name { /// doc  pub field: T, ... }
/// impl Name { pub fn new(required..) -> Self; pub fn optional(self, v) -> Self }   // input models only
/// ```
pub fn model(schema: &Schema, m: &Model, from: &[String]) -> TokenStream {
    let name = format_ident!("{}", m.name);
    let docs = doc(&m.doc);
    // A union's details fields are boxed: at most one of them is set, so
    // keeping each inline would make every item (most often a plain text
    // fragment) carry the size of all of them.
    let boxed =
        |f: &Field| !m.input && m.union.as_ref().is_some_and(|u| u.variants.iter().any(|(_, field)| field == &f.wire));
    let fields = m.fields.iter().map(|f| struct_field(schema, f, from, boxed(f)));
    let ctor = if m.input { constructor(schema, m, from) } else { quote!() };
    let kind = m.union.as_ref().map(|u| union_kind(schema, m, u, from)).unwrap_or_default();
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
        }

        #ctor
        #kind
    }
}

/// A model that is a tagged union on the wire gets a view by kind:
///
/// ```text
/// pub enum FragmentKind<'a> { Text, Emote(&'a Emote), ..., Other }
/// impl Fragment { pub fn kind(&self) -> FragmentKind<'_> }
/// ```
fn union_kind(schema: &Schema, m: &Model, u: &crate::model::Union, from: &[String]) -> TokenStream {
    let Some(tag) = m.fields.iter().find(|f| f.wire == u.tag) else { return TokenStream::new() };
    let Ty::Named(enum_name) = &tag.ty else { return TokenStream::new() };
    let Some(e) = schema.modules.iter().flat_map(|md| &md.enums).find(|e| &e.name == enum_name) else {
        return TokenStream::new();
    };
    let model = format_ident!("{}", m.name);
    let kind = format_ident!("{}Kind", m.name);
    let tag_field = ident(&tag.rust);
    let enum_path = super::named(schema, enum_name, from);
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for v in &e.values {
        let var = format_ident!("{}", v.rust);
        let d = doc(&format!("{} (`{}`)", v.doc, v.wire));
        let details = u
            .variants
            .iter()
            .find(|(value, _)| value == &v.wire)
            .and_then(|(_, field)| m.fields.iter().find(|f| &f.wire == field));
        match details {
            Some(f) => {
                let t = super::ty(schema, &f.ty, from);
                let n = ident(&f.rust);
                variants.push(quote!(#d #var(&'a #t),));
                arms.push(quote!(#enum_path::#var => match &self.#n {
                    Some(v) => #kind::#var(v),
                    None => #kind::Other,
                },));
            }
            None => {
                variants.push(quote!(#d #var,));
                arms.push(quote!(#enum_path::#var => #kind::#var,));
            }
        }
    }
    let kdoc = doc(&format!("A [`{}`] by its `{}`, with the details of its kind.", m.name, tag.wire));
    quote! {
        #kdoc
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[non_exhaustive]
        pub enum #kind<'a> {
            #(#variants)*
            /// A kind this version of the crate does not know, or one sent
            /// without its details.
            Other,
        }

        impl #model {
            /// What this is, with the details of its kind.
            pub fn kind(&self) -> #kind<'_> {
                match &self.#tag_field {
                    #(#arms)*
                    _ => #kind::Other,
                }
            }
        }
    }
}

/// One struct field with its serde attributes.
fn struct_field(schema: &Schema, f: &Field, from: &[String], boxed: bool) -> TokenStream {
    let name = ident(&f.rust);
    let t = if boxed {
        let inner = super::ty(schema, &f.ty, from);
        quote!(Option<Box<#inner>>)
    } else {
        field_ty(schema, f, from)
    };
    let mut docs = f.doc.clone();
    if let Some(d) = &f.deprecated {
        docs.push_str(&format!("\n\nDeprecated by Twitch: {d}"));
    }
    let docs = doc(&docs);
    let dep = super::deprecated(f.deprecated.as_deref());
    let rename = if f.rust != f.wire {
        let w = &f.wire;
        quote!(#[serde(rename = #w)])
    } else {
        quote!()
    };
    let serde_attr = if f.option && f.ty == Ty::Timestamp {
        // Twitch sends "" for some unset timestamps; read it as None.
        quote!(#[serde(
            default,
            deserialize_with = "crate::__rt::de::lenient_timestamp",
            skip_serializing_if = "Option::is_none"
        )])
    } else if f.option {
        quote!(#[serde(default, skip_serializing_if = "Option::is_none")])
    } else if f.ty.is_vec() {
        // Twitch sends `null` for some empty lists; read it as empty.
        quote!(#[serde(default, deserialize_with = "crate::__rt::de::null_as_default")])
    } else if f.deprecated.is_some() && has_default(&f.ty) {
        quote!(#[serde(default)])
    } else {
        quote!()
    };
    let with = super::serde_with(f);
    quote! {
        #docs
        #dep
        #rename
        #serde_attr
        #with
        pub #name: #t,
    }
}

/// `new()` taking every field that is not an `Option` or a list, and a
/// setter for each of the others.
fn constructor(schema: &Schema, m: &Model, from: &[String]) -> TokenStream {
    let name = format_ident!("{}", m.name);
    let required: Vec<&Field> = m.fields.iter().filter(|f| !f.option && !f.ty.is_vec()).collect();
    let args = required.iter().map(|f| {
        let n = ident(&f.rust);
        let t = setter_arg(schema, &f.ty, from);
        quote!(#n: #t)
    });
    let inits = m.fields.iter().map(|f| {
        let n = ident(&f.rust);
        if f.option {
            quote!(#n: None)
        } else if f.ty.is_vec() {
            quote!(#n: Vec::new())
        } else if matches!(f.ty, Ty::Integer | Ty::Unsigned(_) | Ty::Number | Ty::Boolean | Ty::Duration(_)) {
            quote!(#n)
        } else {
            let conv = setter_conv(&f.ty, &n);
            quote!(#n: #conv)
        }
    });
    let setters = m.fields.iter().filter(|f| f.option || f.ty.is_vec()).map(|f| {
        let n = ident(&f.rust);
        let d = doc(&f.doc);
        let dep = super::deprecated(f.deprecated.as_deref());
        let d = quote!(#d #dep);
        let v = format_ident!("value");
        match &f.ty {
            Ty::Vec(inner) if !f.option => {
                let t = setter_arg(schema, inner, from);
                let conv = setter_conv(inner, &v);
                quote! {
                    #d
                    pub fn #n(mut self, #v: #t) -> Self {
                        self.#n.push(#conv);
                        self
                    }
                }
            }
            other => {
                let t = setter_arg(schema, other, from);
                let conv = setter_conv(other, &v);
                quote! {
                    #d
                    pub fn #n(mut self, #v: #t) -> Self {
                        self.#n = Some(#conv);
                        self
                    }
                }
            }
        }
    });
    quote! {
        impl #name {
            /// Create a value from its required fields; set the others with the methods below.
            #[allow(clippy::new_without_default, clippy::too_many_arguments)]
            pub fn new(#(#args),*) -> Self {
                Self { #(#inits,)* }
            }

            #(#setters)*
        }
    }
}

/// ```text
/// #[non_exhaustive] pub enum Name { Variant, ..., Unknown(String) }
/// impl Name { pub fn as_str(&self) -> &str }
/// impl From<&str>, From<String>, Display, Serialize, Deserialize, ToQuery
/// ```
pub fn string_enum(e: &Enum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let name_str = &e.name;
    let docs = doc(&e.doc);
    let variants = e.values.iter().map(|v| {
        let id = format_ident!("{}", v.rust);
        // An empty code span renders as two backticks: say what the value is.
        let d = if v.wire.is_empty() {
            doc(&format!("{} (the empty string)", v.doc))
        } else {
            doc(&format!("{} (`{}`)", v.doc, v.wire.escape_default()))
        };
        quote!(#d #id,)
    });
    let to_str = e.values.iter().map(|v| {
        let id = format_ident!("{}", v.rust);
        let w = &v.wire;
        quote!(Self::#id => #w,)
    });
    let from_str = e.values.iter().map(|v| {
        let id = format_ident!("{}", v.rust);
        let w = &v.wire;
        quote!(#w => Self::#id,)
    });
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            /// A value this version of the crate does not know yet.
            Unknown(String),
        }

        impl #name {
            /// The value as Twitch spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str)*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#from_str)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for #name {
            fn from(value: String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::__rt::de::string_enum(deserializer, |s: &str| match Self::from(s) {
                    Self::Unknown(value) => {
                        crate::__rt::observe::unknown_enum_value(#name_str, &value);
                        Self::Unknown(value)
                    }
                    known => known,
                })
            }
        }

        impl crate::__rt::ToQuery for #name {
            fn to_query(&self) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed(self.as_str())
            }
        }
    }
}
