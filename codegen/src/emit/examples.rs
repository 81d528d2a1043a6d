//! Test code built from Twitch's examples in the schema: every example
//! response and notification decoded strictly into its generated type, and
//! every example request rebuilt through the generated builder.
//!
//! The output is Rust source for the test crate (`include!`d there); it uses
//! the items the test file defines: `strict`, `strict_data`,
//! `strict_data_object`, `strict_event` and `client()`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::ident;
use crate::model::{Endpoint, ExampleRequest, Schema, Shape, TimeUnit, Ty};

/// Path of a named type from outside the crate: `twitch::helix::users::User`.
fn ext_named(schema: &Schema, name: &str) -> TokenStream {
    let id = format_ident!("{}", name);
    match schema.types.get(name) {
        Some(info) => {
            let segs = info.module.iter().map(|s| ident(s));
            quote!(twitch #(:: #segs)* :: #id)
        }
        None => quote!(#id),
    }
}

fn ext_module(ep_module: &[String]) -> TokenStream {
    let segs = ep_module.iter().map(|s| ident(s));
    quote!(twitch #(:: #segs)*)
}

/// `fn decode_examples(check: &mut dyn FnMut(&str, Result<(), String>))` and
/// `pub fn example_requests() -> Vec<ExampleCase>`, as two token streams: the
/// requests are replayed elsewhere (against the mock) without the decoders.
pub fn example_tests(schema: &Schema) -> (TokenStream, TokenStream) {
    let mut decodes = Vec::new();
    let mut requests = Vec::new();
    for m in &schema.modules {
        // The test crate builds `twitch` with every feature, so nothing is gated here.
        let c = quote!();
        for ep in &m.endpoints {
            if let Some(ex) = &ep.example_response
                && let Some(call) = decode_call(schema, ep, &m.path)
            {
                let id = &ep.id;
                decodes.push(quote!(#c check(#id, #call(#ex));));
            }
            for (i, ex) in ep.example_requests.iter().enumerate() {
                let id = &ep.id;
                let case = request_case(schema, ep, ex);
                let method = &ex.method;
                let path = &ex.path;
                let qk = ex.query.iter().map(|(k, _)| k);
                let qv = ex.query.iter().map(|(_, v)| v);
                let body = match &ex.raw_body {
                    Some(b) => quote!(Some(#b)),
                    None => quote!(None),
                };
                let raw = &ex.raw;
                requests.push(quote! {
                    #c
                    cases.push(ExampleCase {
                        id: #id,
                        index: #i,
                        raw: #raw,
                        method: #method,
                        path: #path,
                        query: vec![#((#qk, #qv)),*],
                        body: #body,
                        built: #case,
                    });
                });
            }
        }
        for s in &m.subscriptions {
            if let Some(ex) = &s.example {
                let id = format!("{} v{}", s.ty, s.version);
                let ev = ext_named(schema, &s.event);
                let ev = if s.batched { quote!(Vec<#ev>) } else { ev };
                let key = if s.batched { "events" } else { "event" };
                decodes.push(quote!(#c check(#id, strict_event::<#ev>(#ex, #key));));
            }
        }
    }
    let decodes = quote! {
        /// Decode every example strictly; `check` gets the item id and the outcome.
        // Twitch's examples include endpoints and fields it deprecated.
        #[allow(deprecated)]
        fn decode_examples(check: &mut dyn FnMut(&str, Result<(), String>)) {
            #(#decodes)*
        }
    };
    let requests = quote! {
        /// Every example request, and what the generated builder made of it.
        #[allow(clippy::vec_init_then_push, deprecated)]
        pub fn example_requests() -> Vec<ExampleCase> {
            let mut cases = Vec::new();
            #(#requests)*
            cases
        }
    };
    (decodes, requests)
}

fn decode_call(schema: &Schema, ep: &Endpoint, path: &[String]) -> Option<TokenStream> {
    let item = ep.response.model.as_ref().map(|m| ext_named(schema, m));
    if let Some(r) = ep.response_struct() {
        let module = ext_module(path);
        let r = format_ident!("{}", r);
        return Some(quote!(strict::<#module::#r>));
    }
    let item = item?;
    Some(match ep.response.shape {
        Shape::Data if ep.response.paginated => quote!(strict::<twitch::Page<#item>>),
        Shape::Data => quote!(strict_data::<#item>),
        Shape::DataObject => quote!(strict_data_object::<#item>),
        Shape::Object => quote!(strict::<#item>),
        Shape::None | Shape::Text => return None,
    })
}

/// `Ok(client().get_users().id("1").prepare())`, or `Err("why not")`.
fn request_case(schema: &Schema, ep: &Endpoint, ex: &ExampleRequest) -> TokenStream {
    match build_call(schema, ep, ex) {
        Ok(call) => quote!(Ok(#call.prepare())),
        Err(why) => quote!(Err(#why.to_owned())),
    }
}

fn build_call(schema: &Schema, ep: &Endpoint, ex: &ExampleRequest) -> Result<TokenStream, String> {
    let body = ex.body.as_ref().and_then(Value::as_object);
    let mut used_query = vec![false; ex.query.len()];
    let mut args = Vec::new();
    // Required parameters become method arguments, in order.
    for f in ep.required() {
        let is_query = ep.query.iter().any(|q| std::ptr::eq(q, f));
        let expr = if is_query {
            let pos = ex
                .query
                .iter()
                .enumerate()
                .position(|(i, (k, _))| !used_query[i] && k == &f.wire)
                .ok_or_else(|| format!("the example lacks required parameter '{}'", f.wire))?;
            used_query[pos] = true;
            literal_str(schema, &f.ty, &ex.query[pos].1)?
        } else {
            let v = body
                .and_then(|b| b.get(&f.wire))
                .ok_or_else(|| format!("the example body lacks required field '{}'", f.wire))?;
            literal_json(schema, &f.ty, v)?
        };
        args.push(expr);
    }
    let fn_name = ident(&ep.fn_name);
    let mut call = quote!(client().#fn_name(#(#args),*));
    // The rest of the query, in the example's order.
    for (i, (k, v)) in ex.query.iter().enumerate() {
        if used_query[i] {
            continue;
        }
        let f = ep.query.iter().find(|q| &q.wire == k).ok_or_else(|| format!("unknown parameter '{k}'"))?;
        let setter = ident(&f.rust);
        let lit = literal_str(schema, &f.ty, v)?;
        call = quote!(#call.#setter(#lit));
    }
    // The rest of the body.
    if let Some(b) = body {
        for (k, v) in b {
            let f = ep.body.iter().find(|f| &f.wire == k).ok_or_else(|| format!("unknown body field '{k}'"))?;
            if f.required {
                continue;
            }
            if v.is_null() {
                continue;
            }
            let setter = ident(&f.rust);
            let lit = match &f.ty {
                Ty::Vec(inner) => {
                    let items = v.as_array().ok_or_else(|| format!("body field '{k}' is not an array"))?;
                    let items = items.iter().map(|i| literal_json(schema, inner, i)).collect::<Result<Vec<_>, _>>()?;
                    quote!([#(#items),*])
                }
                other => literal_json(schema, other, v)?,
            };
            call = quote!(#call.#setter(#lit));
        }
    }
    Ok(call)
}

/// A query value as a Rust expression of the parameter's type.
fn literal_str(schema: &Schema, ty: &Ty, v: &str) -> Result<TokenStream, String> {
    Ok(match ty {
        Ty::String | Ty::Secret | Ty::UserId | Ty::UserLogin | Ty::Id(_) => quote!(#v),
        Ty::Integer | Ty::Unsigned(_) => {
            let n: i64 = v.parse().map_err(|_| format!("'{v}' is not an integer"))?;
            // Unsuffixed: the parameter's type (i64, u8, ...) decides.
            let n = proc_macro2::Literal::i64_unsuffixed(n);
            quote!(#n)
        }
        Ty::Number => {
            let n: f64 = v.parse().map_err(|_| format!("'{v}' is not a number"))?;
            quote!(#n)
        }
        Ty::Boolean => {
            let b: bool = v.parse().map_err(|_| format!("'{v}' is not a boolean"))?;
            quote!(#b)
        }
        Ty::Timestamp => quote!(twitch::Timestamp::parse(#v).expect("example timestamp")),
        Ty::Duration(unit) => {
            let n: f64 = v.parse().map_err(|_| format!("'{v}' is not a number"))?;
            duration_literal(*unit, n)?
        }
        Ty::Named(n) => {
            let t = ext_named(schema, n);
            quote!(#t::from(#v))
        }
        other => return Err(format!("cannot put a {other:?} in a query")),
    })
}

/// `Duration::from_secs(..)` for an example value in the field's unit.
fn duration_literal(unit: TimeUnit, n: f64) -> Result<TokenStream, String> {
    if unit == TimeUnit::DecimalSeconds {
        return Ok(quote!(std::time::Duration::from_secs_f64(#n)));
    }
    if n < 0.0 || n.fract() != 0.0 {
        return Err(format!("{n} is not a whole number of {unit:?}"));
    }
    let secs = n as u64 * unit.seconds();
    Ok(quote!(std::time::Duration::from_secs(#secs)))
}

/// A JSON body value as a Rust expression of the field's type.
fn literal_json(schema: &Schema, ty: &Ty, v: &Value) -> Result<TokenStream, String> {
    match (ty, v) {
        (Ty::String | Ty::Secret | Ty::UserId | Ty::UserLogin | Ty::Id(_) | Ty::Timestamp, Value::String(s)) => {
            literal_str(schema, ty, s)
        }
        (Ty::Integer | Ty::Unsigned(_), Value::Number(n)) => {
            let n = proc_macro2::Literal::i64_unsuffixed(n.as_i64().ok_or("not an integer")?);
            Ok(quote!(#n))
        }
        (Ty::Number, Value::Number(n)) => {
            let n = n.as_f64().ok_or("not a number")?;
            Ok(quote!(#n))
        }
        (Ty::Duration(unit), Value::Number(n)) => duration_literal(*unit, n.as_f64().ok_or("not a number")?),
        (Ty::Boolean, Value::Bool(b)) => Ok(quote!(#b)),
        (Ty::Json, v) => {
            let s = v.to_string();
            Ok(quote!(serde_json::from_str::<serde_json::Value>(#s).expect("example JSON")))
        }
        (Ty::Vec(inner), Value::Array(items)) => {
            let items = items.iter().map(|i| literal_json(schema, inner, i)).collect::<Result<Vec<_>, _>>()?;
            Ok(quote!([#(#items),*]))
        }
        (Ty::Named(n), Value::String(s)) => literal_str(schema, &Ty::Named(n.clone()), s),
        (Ty::Named(n), v @ Value::Object(_)) => {
            let t = ext_named(schema, n);
            let s = v.to_string();
            Ok(quote!(serde_json::from_str::<#t>(#s).expect("example body object")))
        }
        (t, v) => Err(format!("example value {v} does not fit type {t:?}")),
    }
}
