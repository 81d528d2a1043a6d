//! Cargo features by area of the API: one per Helix category
//! (`helix-chat`) and one per EventSub group (`eventsub-channel`), and for
//! every model and enum the features whose items use it.
//!
//! Which types an item uses is read from the code emitted for it (every
//! named type it mentions), then followed through the types' own code, so
//! the gates can never miss a reference the compiler would see.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::model::{Module, Schema};

/// The cargo feature of a module in `helix/` or `eventsub/`:
/// `["helix", "channel_points"]` → `helix-channel-points`.
pub fn feature_of(path: &[String]) -> Option<String> {
    match path {
        [area, leaf] if area == "helix" || area == "eventsub" => Some(format!("{area}-{}", leaf.replace('_', "-"))),
        _ => None,
    }
}

/// One feature and what it turns on.
#[derive(Debug, Clone)]
pub struct Feature {
    /// `helix-chat`
    pub name: String,
    /// `helix` or `eventsub`
    pub area: &'static str,
    /// The module its items live in.
    pub module: Vec<String>,
    pub summary: String,
    /// Another feature its items also need (`beta` for Guest Star).
    pub also: Option<String>,
    /// Endpoint ids (`send-chat-message`).
    pub endpoints: Vec<String>,
    /// Subscription types and versions.
    pub subscriptions: Vec<(String, String)>,
}

impl Feature {
    /// The marker trait a call to a method of a disabled feature fails on: `HelixChat`.
    pub fn marker(&self) -> proc_macro2::Ident {
        format_ident!("{}", self.name.to_upper_camel_case())
    }

    /// `helix-guest-star` and `beta`, as the error message names them.
    pub fn needs(&self) -> String {
        match &self.also {
            Some(a) => format!("the `{}` and `{a}` features", self.name),
            None => format!("the `{}` feature", self.name),
        }
    }
}

/// The features of a schema and the gate of each named type.
#[derive(Debug, Default)]
pub struct Features {
    /// In schema order: Helix categories, then EventSub groups.
    pub list: Vec<Feature>,
    /// Named model or enum → the features whose items use it, directly or
    /// through other types. A type no item uses is gated by its own
    /// module's feature.
    pub users: BTreeMap<String, BTreeSet<String>>,
}

/// What a module emits, chunk by chunk, before gating.
pub struct Chunk {
    pub kind: ChunkKind,
    /// The model's or enum's name, the endpoint's id, the subscription's type name.
    pub name: String,
    pub tokens: TokenStream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Enum,
    Model,
    /// The struct of an endpoint's error answer's extra fields: it reads
    /// them from the client's error, so it goes beside the endpoint.
    ErrorFields,
    /// A subscription type's condition struct: part of the subscription item.
    Condition,
    Endpoint,
    Subscription,
}

impl ChunkKind {
    /// An item a feature turns on (rather than a type items use).
    pub fn is_item(self) -> bool {
        matches!(self, ChunkKind::Condition | ChunkKind::Endpoint | ChunkKind::Subscription)
    }
}

/// The features and each type's users, from every module's chunks.
pub fn compute(schema: &Schema, chunks: &[(&Module, Vec<Chunk>)]) -> Features {
    let mut list = Vec::new();
    for m in &schema.modules {
        let Some(name) = feature_of(&m.path) else { continue };
        list.push(Feature {
            name,
            area: if m.path[0] == "helix" { "helix" } else { "eventsub" },
            module: m.path.clone(),
            summary: m.summary.clone().unwrap_or_default(),
            also: m.feature.clone(),
            endpoints: m.endpoints.iter().map(|e| e.id.clone()).collect(),
            subscriptions: m.subscriptions.iter().map(|s| (s.ty.clone(), s.version.clone())).collect(),
        });
    }
    list.sort_by_key(|f| f.area != "helix");
    // Type → the named types its code mentions; feature → the types its items mention.
    let mut mentions: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, cs) in chunks {
        let feature = feature_of(&m.path);
        for c in cs {
            let mut found = BTreeSet::new();
            named_types(schema, &c.tokens, &mut found);
            found.remove(&c.name);
            if c.kind.is_item() {
                if let Some(f) = &feature {
                    direct.entry(f.clone()).or_default().extend(found);
                }
            } else {
                mentions.entry(c.name.as_str()).or_default().extend(found);
            }
        }
    }
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (feature, roots) in &direct {
        let mut stack: Vec<String> = roots.iter().cloned().collect();
        let mut seen = BTreeSet::new();
        while let Some(t) = stack.pop() {
            if !seen.insert(t.clone()) {
                continue;
            }
            users.entry(t.clone()).or_default().insert(feature.clone());
            if let Some(next) = mentions.get(t.as_str()) {
                stack.extend(next.iter().cloned());
            }
        }
    }
    Features { list, users }
}

/// Every identifier in `tokens` that names a model or enum of the schema.
fn named_types(schema: &Schema, tokens: &TokenStream, out: &mut BTreeSet<String>) {
    for tt in tokens.clone() {
        match tt {
            TokenTree::Ident(i) => {
                let s = i.to_string();
                if schema.types.contains_key(&s) {
                    out.insert(s);
                }
            }
            TokenTree::Group(g) => named_types(schema, &g.stream(), out),
            _ => {}
        }
    }
}

impl Features {
    /// The features a named type of module `m` builds under: its users, or
    /// its module's own feature when no item uses it. Empty outside the areas
    /// (`shared`): always built.
    pub fn gate_of(&self, m: &Module, name: &str) -> BTreeSet<String> {
        let Some(own) = feature_of(&m.path) else { return BTreeSet::new() };
        match self.users.get(name) {
            Some(u) if !u.is_empty() => u.clone(),
            _ => BTreeSet::from([own]),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.list.iter().find(|f| f.name == name)
    }
}

/// `#[cfg(feature = "a")]` or `#[cfg(any(feature = "a", feature = "b"))]`; nothing for none.
pub fn cfg_any(features: &BTreeSet<String>) -> TokenStream {
    let fs: Vec<&String> = features.iter().collect();
    match fs.as_slice() {
        [] => quote!(),
        [one] => quote!(#[cfg(feature = #one)]),
        many => quote!(#[cfg(any(#(feature = #many),*))]),
    }
}

/// The hidden module behind a call to an endpoint whose feature is off: a
/// marker trait per feature, whose message names the feature to turn on.
pub fn markers(features: &Features) -> TokenStream {
    let traits = features.list.iter().map(|f| {
        let t = f.marker();
        let message = format!("this needs {} of the `twitch` crate", f.needs());
        let label = format!("needs {}", f.needs());
        let mut turn_on = vec![f.name.clone()];
        turn_on.extend(f.also.clone());
        let list = turn_on.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
        let note = format!("turn it on in Cargo.toml: twitch = {{{{ version = \"…\", features = [{list}] }}}}");
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            pub trait #t {}
        }
    });
    quote! {
        /// What a method of a feature that is off returns: never made, the
        /// call does not compile.
        pub enum Off {}

        #(#traits)*
    }
}

/// The `[features]` lines `twitch-codegen sync` writes into the generated
/// crate's Cargo.toml: `helix` and `eventsub` as every category and group,
/// and one line per feature.
///
/// `forward` is the crate the features are passed on to (the `twitch`
/// crate's to `twitch-models`), or `None` for the crate whose code they gate.
pub fn cargo_features(features: &Features, forward: Option<&str>) -> String {
    let mut out = String::new();
    for area in ["helix", "eventsub"] {
        let names: Vec<String> =
            features.list.iter().filter(|f| f.area == area).map(|f| format!("\"{}\"", f.name)).collect();
        let what = if area == "helix" { "Every Helix category" } else { "Every EventSub group" };
        out.push_str(&format!("# {what}.\n{area} = [\n"));
        let mut line = String::new();
        for n in names {
            if !line.is_empty() && line.len() + n.len() + 2 > 96 {
                out.push_str(&format!("    {}\n", line.trim_end()));
                line.clear();
            }
            line.push_str(&n);
            line.push_str(", ");
        }
        out.push_str(&format!("    {}\n]\n", line.trim_end()));
    }
    for f in &features.list {
        let one_line = f.summary.lines().next().unwrap_or_default();
        let also = f.also.as_ref().map(|a| format!(" (with `{a}`)")).unwrap_or_default();
        let on = forward.map(|c| format!("\"{c}/{}\"", f.name)).unwrap_or_default();
        out.push_str(&format!("# {one_line}{also}\n{} = [{on}]\n", f.name));
    }
    out
}

/// The README's table: each feature and the endpoints and subscription types it turns on.
pub fn readme_table(features: &Features, schema: &Schema) -> String {
    let mut out = String::from("| feature | endpoints (`Client` methods) or subscription types |\n|---|---|\n");
    for f in &features.list {
        let m = schema.modules.iter().find(|m| m.path == f.module);
        let items: Vec<String> = match m {
            Some(m) if f.area == "helix" => m.endpoints.iter().map(|e| format!("`{}`", e.fn_name)).collect(),
            Some(m) => m.subscriptions.iter().map(|s| format!("`{}` v{}", s.ty, s.version)).collect(),
            None => Vec::new(),
        };
        let also = f.also.as_ref().map(|a| format!(" (with `{a}`)")).unwrap_or_default();
        out.push_str(&format!("| `{}`{also} | {} |\n", f.name, items.join(", ")));
    }
    out
}
