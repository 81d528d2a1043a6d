//! Helix endpoints: request builder, client method, response type, metadata.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{deprecated, doc, field_ty, ident, named, scopes_text, setter_arg, setter_conv, ty};
use crate::model::{Endpoint, Field, Items, RuleKind, Schema, Shape, Ty};

/// Everything generated for one endpoint:
///
/// ```text
/// impl Client { pub fn get_users(&self, <required>) -> GetUsers }
/// pub struct GetUsers { client, <params>, body: GetUsersBody }
/// impl GetUsers { const META; setters; send(); prepare(); paginate() }
/// impl IntoFuture for GetUsers
/// impl Endpoint for GetUsers { validate, query, body, decode }
/// impl Paginated for GetUsers                       // paginated only
/// pub struct GetUsersResponse { data, <extra>, cursor }   // extra fields only
/// struct GetUsersBody { <body fields> }              // JSON body only
/// ```
pub fn endpoint(schema: &Schema, ep: &Endpoint, from: &[String]) -> TokenStream {
    let name = format_ident!("{}", ep.type_name);
    let fn_name = ident(&ep.fn_name);
    let output = output_ty(schema, ep, from);
    let docs = doc(&endpoint_doc(ep));
    let dep = deprecated(ep.deprecated.as_deref());
    let method_doc = doc(&format!(
        "{}\n\n`{} /helix{}`; see [`{}`] for the parameters and [Twitch's reference]({}).",
        ep.summary, ep.method, ep.path, ep.type_name, ep.reference_url
    ));

    // Struct fields: query parameters, then the body.
    let query_fields = ep.query.iter().map(|f| {
        let n = ident(&f.rust);
        let t = param_ty(schema, f, from);
        quote!(#n: #t,)
    });
    let has_body = !ep.body.is_empty();
    let body_name = format_ident!("{}", ep.body_struct());
    let body_field = if has_body { quote!(body: #body_name,) } else { quote!() };

    // Constructor arguments: required query params, then required body fields.
    let req_args: Vec<TokenStream> = ep
        .required()
        .map(|f| {
            let n = ident(&f.rust);
            let t = arg_ty(schema, f, from);
            quote!(#n: #t)
        })
        .collect();
    let req_names: Vec<Ident> = ep.required().map(|f| ident(&f.rust)).collect();
    let query_inits = ep.query.iter().map(init);
    let body_init = if has_body {
        let inits = ep.body.iter().map(init);
        quote!(body: #body_name { #(#inits,)* },)
    } else {
        quote!()
    };

    let setters = ep.query.iter().filter(|f| !f.required || f.repeat.is_some()).map(|f| setter(schema, f, from, false));
    let body_setters = ep.body.iter().filter(|f| !f.required).map(|f| setter(schema, f, from, true));

    let paginate = if ep.response.paginated {
        quote! {
            /// Walk every page, one item at a time. Ends when Twitch returns no
            /// cursor; a cursor that repeats ends the walk with an error.
            #[inline]
            pub fn paginate(self) -> crate::Paginator<Self> {
                crate::Paginator::new(self)
            }
        }
    } else {
        quote!()
    };

    let meta = meta(schema, ep);
    let validate = validate(ep);
    let query = {
        let pushes = ep.query.iter().map(|f| {
            let n = ident(&f.rust);
            let w = &f.wire;
            if let Ty::Duration(unit) = f.ty {
                let unit = format_ident!("{}", unit.variant());
                let text = quote!(crate::__rt::duration::query(&d, crate::__rt::duration::Unit::#unit));
                if f.required {
                    quote!(let d = self.#n; q.push(#w, &#text);)
                } else {
                    quote!(if let Some(d) = self.#n { q.push(#w, &#text); })
                }
            } else if f.repeat.is_some() {
                quote!(q.push_all(#w, &self.#n);)
            } else if f.required {
                quote!(q.push(#w, &self.#n);)
            } else {
                quote!(q.push_opt(#w, self.#n.as_ref());)
            }
        });
        if ep.query.is_empty() {
            quote!()
        } else {
            quote! {
                #[inline]
                fn query(&self, q: &mut crate::__rt::Query) {
                    #(#pushes)*
                }
            }
        }
    };
    let body_fn = if has_body {
        quote! {
            #[inline]
            fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
                serde_json::to_vec(&self.body).map(Some)
            }
        }
    } else {
        quote!()
    };
    // The trait's methods are inline, like `send`: an endpoint's checks,
    // query, body and decoding are compiled only in programs that call it.
    let decode = decode(ep);

    let paginated_impl = if ep.response.paginated {
        let item = item_ty(schema, ep, from);
        quote! {
            impl crate::__rt::Paginated for #name {
                type Item = #item;

                #[inline]
                fn set_cursor(&mut self, cursor: Option<String>) {
                    self.after = cursor;
                }

                #[inline]
                fn into_parts(output: Self::Output) -> (Vec<Self::Item>, Option<String>) {
                    (output.data, output.cursor)
                }
            }
        }
    } else {
        quote!()
    };

    let response_struct = response_struct(schema, ep, from);
    let body_struct = if has_body {
        let fields = ep.body.iter().map(|f| {
            let n = ident(&f.rust);
            let t = field_ty(schema, f, from);
            let rename = if f.rust != f.wire {
                let w = &f.wire;
                quote!(#[serde(rename = #w)])
            } else {
                quote!()
            };
            let skip = if f.option { quote!(#[serde(skip_serializing_if = "Option::is_none")]) } else { quote!() };
            let with = super::serde_with(f);
            quote!(#rename #skip #with #n: #t,)
        });
        quote! {
            #[derive(Debug, Clone, serde::Serialize)]
            struct #body_name {
                #(#fields)*
            }
        }
    } else {
        quote!()
    };

    // Only where a repeat could do the action twice: idempotent requests
    // are retried anyway.
    let retry_setter = if ep.idempotent {
        quote!()
    } else {
        quote! {
            /// Retry after a 5xx or a transport error as idempotent requests
            /// are. Off by default: Twitch may have acted on the first
            /// attempt, and a retry would act again.
            pub fn retry_non_idempotent(mut self) -> Self {
                self.options.retry_non_idempotent = true;
                self
            }
        }
    };

    let lookups = lookups(schema, ep, from);
    let error_readers = error_readers(ep);
    // Only where either token goes: elsewhere there is nothing to choose.
    let as_app = if ep.tokens.iter().any(|t| t == "app") && ep.tokens.iter().any(|t| t == "user") {
        quote! {
            /// Send with the app token (held by the client's token manager),
            /// whichever user tokens it holds (see [`crate::RequestOptions`]).
            pub fn as_app(mut self) -> Self {
                self.options.as_app = true;
                self.options.as_user = None;
                self
            }
        }
    } else {
        quote!()
    };
    quote! {
        #lookups
        #error_readers

        impl crate::Client {
            #method_doc
            #dep
            pub fn #fn_name(&self, #(#req_args),*) -> #name {
                #name::new(crate::__rt::Client::clone(self), #(#req_names),*)
            }
        }

        #docs
        #dep
        #[derive(Debug, Clone)]
        #[must_use = "a request does nothing until it is sent"]
        pub struct #name {
            client: crate::__rt::Client,
            options: crate::__rt::RequestOptions,
            #(#query_fields)*
            #body_field
        }

        impl #name {
            /// What this crate knows about the endpoint: path, tokens, scopes, limits, examples.
            pub const META: &'static crate::EndpointMeta = &#meta;

            /// Start a request; [`crate::Client`] has a method that does this for you.
            pub fn new(client: crate::__rt::Client, #(#req_args),*) -> Self {
                Self {
                    client,
                    options: crate::__rt::RequestOptions::default(),
                    #(#query_inits,)*
                    #body_init
                }
            }

            #(#setters)*
            #(#body_setters)*

            /// Send with this user's token (held by the client's token manager)
            /// instead of the one the client would choose (see [`crate::RequestOptions`]).
            pub fn as_user(mut self, user: impl Into<crate::UserId>) -> Self {
                self.options.as_user = Some(user.into());
                self.options.as_app = false;
                self
            }

            #as_app

            #retry_setter

            /// Send the request. `.await` on the request itself does the same.
            // Inline: the decoding code is generated only for endpoints a program calls.
            #[inline]
            pub fn send(self) -> crate::ResponseFuture<#output> {
                crate::__rt::send(self)
            }

            /// The HTTP request this would send, without sending it.
            #[inline]
            pub fn prepare(&self) -> crate::Result<crate::PreparedRequest> {
                crate::__rt::prepare(self)
            }

            #paginate
        }

        impl std::future::IntoFuture for #name {
            type Output = crate::Result<#output>;
            type IntoFuture = crate::ResponseFuture<#output>;

            #[inline]
            fn into_future(self) -> Self::IntoFuture {
                self.send()
            }
        }

        impl crate::__rt::Endpoint for #name {
            type Output = #output;

            fn meta(&self) -> &'static crate::EndpointMeta {
                Self::META
            }

            fn client(&self) -> &crate::__rt::Client {
                &self.client
            }

            fn options(&self) -> &crate::__rt::RequestOptions {
                &self.options
            }

            fn options_mut(&mut self) -> &mut crate::__rt::RequestOptions {
                &mut self.options
            }

            #validate
            #query
            #body_fn
            #decode
        }

        #paginated_impl
        #response_struct
        #body_struct
    }
}

/// The struct of an error answer's extra fields.
fn error_struct(ep: &Endpoint, e: &crate::model::ErrorAnswer) -> String {
    crate::model::error_struct_name(&ep.type_name, e.status)
}

/// ```text
/// impl CreateEventSubSubscriptionConflict { pub fn from_error(&Error) -> Option<Self> }
/// ```
fn error_readers(ep: &Endpoint) -> TokenStream {
    let readers = ep.errors.iter().filter(|e| !e.fields.is_empty()).map(|e| {
        let name = format_ident!("{}", error_struct(ep, e));
        let status = e.status;
        let id = &ep.id;
        let d = doc(&format!(
            "The fields of `error` when it is [`{}`]'s {status} answer (`None` for any other error, \
             or when the body lacks them in a form that decodes).",
            ep.type_name
        ));
        quote! {
            impl #name {
                #d
                pub fn from_error(error: &crate::Error) -> Option<Self> {
                    match error {
                        crate::Error::Api { endpoint, status: #status, details, .. } if endpoint == #id => {
                            let fields = details.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                            serde_json::from_value(serde_json::Value::Object(fields)).ok()
                        }
                        _ => None,
                    }
                }
            }
        }
    });
    quote!(#(#readers)*)
}

fn endpoint_doc(ep: &Endpoint) -> String {
    let mut s = ep.summary.clone();
    if let Some(d) = &ep.docs {
        s.push_str("\n\n");
        s.push_str(d.trim());
    }
    s.push_str(&format!("\n\n`{} /helix{}` ([Twitch reference]({}))", ep.method, ep.path, ep.reference_url));
    let tokens = ep
        .tokens
        .iter()
        .map(|t| match t.as_str() {
            "app" => "app access token",
            "user" => "user access token",
            "none" => "none needed",
            _ => "extension JWT",
        })
        .collect::<Vec<_>>()
        .join(" or ");
    s.push_str(&format!("\n\nToken: {tokens}."));
    if !ep.scopes.is_empty() {
        s.push_str(&format!(" Scopes: {}.", scopes_text(&ep.scopes)));
    }
    for (groups, when) in &ep.conditional_scopes {
        s.push_str(&format!(" Also {} when {}.", scopes_text(groups), when.trim_end_matches('.')));
    }
    if ep.response.paginated {
        s.push_str(&format!("\n\nPaginated: [`{}::paginate`] walks every page.", ep.type_name));
    }
    if ep.beta {
        s.push_str("\n\nTwitch marks this endpoint as beta: it may change without notice.");
    }
    let dates = ep.lifecycle.sentence();
    if !dates.is_empty() {
        s.push_str(&format!("\n\n{dates}"));
    }
    if let Some(p) = &ep.token_user {
        s.push_str(&format!(
            "\n\nActs as the user in `{p}`: the client sends that user's token when its token manager holds it, \
             the app token otherwise (which works when that user has granted the app the scopes); \
             `as_user` and `as_app` choose."
        ));
    }
    if let Some((param, max)) = &ep.split {
        s.push_str(&format!(
            "\n\nTwitch takes at most {max} `{param}` per request: a longer list is sent as several requests, \
             in order, and their answers are merged. If one of them fails, the error is returned and the \
             requests before it have been applied."
        ));
    }
    for e in &ep.errors {
        s.push_str(&format!("\n\n{} when {}.", e.status, e.when.trim_end_matches('.')));
        if !e.documented {
            s.push_str(" (Not listed in Twitch's reference; the schema's decisions for this endpoint say where it comes from.)");
        }
        if !e.fields.is_empty() {
            let names: Vec<String> = e.fields.iter().map(|f| format!("`{}`", f.wire)).collect();
            s.push_str(&format!(
                " The error body also carries {} (see [`{}`]).",
                names.join(", "),
                error_struct(ep, e)
            ));
        }
    }
    if let Some(d) = &ep.deprecated {
        s.push_str(&format!("\n\nDeprecated by Twitch: {d}"));
    }
    s
}

/// Stored type of a query parameter.
fn param_ty(schema: &Schema, f: &Field, from: &[String]) -> TokenStream {
    let t = ty(schema, &f.ty, from);
    if f.repeat.is_some() {
        quote!(Vec<#t>)
    } else if f.required {
        t
    } else {
        quote!(Option<#t>)
    }
}

/// Argument type of a required parameter.
fn arg_ty(schema: &Schema, f: &Field, from: &[String]) -> TokenStream {
    match &f.ty {
        Ty::Vec(inner) => {
            let t = setter_arg(schema, inner, from);
            quote!(impl IntoIterator<Item = #t>)
        }
        other => setter_arg(schema, other, from),
    }
}

/// Initial value in `new()`.
fn init(f: &Field) -> TokenStream {
    let n = ident(&f.rust);
    if f.repeat.is_some() {
        if f.required {
            let v = ident(&f.rust);
            let conv = setter_conv(&f.ty, &v);
            quote!(#n: vec![#conv])
        } else {
            quote!(#n: Vec::new())
        }
    } else if f.required {
        match &f.ty {
            Ty::Vec(inner) => {
                let v = format_ident!("v");
                let conv = setter_conv(inner, &v);
                quote!(#n: #n.into_iter().map(|v| #conv).collect())
            }
            Ty::Integer | Ty::Unsigned(_) | Ty::Number | Ty::Boolean | Ty::Duration(_) => quote!(#n),
            other => {
                let conv = setter_conv(other, &n);
                quote!(#n: #conv)
            }
        }
    } else {
        quote!(#n: None)
    }
}

/// `pub fn first(mut self, value: i64) -> Self`; repeatable parameters get
/// `id(value)` that appends and `ids(iter)` that appends many.
fn setter(schema: &Schema, f: &Field, from: &[String], body: bool) -> TokenStream {
    let n = ident(&f.rust);
    let v = format_ident!("value");
    let target = if body { quote!(self.body.#n) } else { quote!(self.#n) };
    let mut text = f.doc.clone();
    if let Some(max) = f.repeat {
        text.push_str(&format!("\n\nRepeatable: call once per value, at most {max} in all."));
    }
    if f.min.is_some() || f.max.is_some() {
        text.push_str(&match (f.min, f.max) {
            (Some(a), Some(b)) => format!("\n\nFrom {a} to {b}."),
            (Some(a), None) => format!("\n\nAt least {a}."),
            (None, Some(b)) => format!("\n\nAt most {b}."),
            _ => String::new(),
        });
    }
    if let Some(l) = f.max_len {
        text.push_str(&format!("\n\nAt most {l} characters."));
    }
    if let Some(d) = &f.deprecated {
        text.push_str(&format!("\n\nDeprecated by Twitch: {d}"));
    }
    let d = doc(&text);
    let d = {
        let dep = deprecated(f.deprecated.as_deref());
        quote!(#d #dep)
    };
    if f.repeat.is_some() {
        let t = setter_arg(schema, &f.ty, from);
        let conv = setter_conv(&f.ty, &v);
        let plural = format_ident!("{}", plural(&f.rust));
        let plural_doc = doc(&format!("Add several values of [`Self::{}`] at once.", f.rust));
        let plural_doc = {
            let dep = deprecated(f.deprecated.as_deref());
            quote!(#plural_doc #dep)
        };
        let item = format_ident!("item");
        let conv_item = setter_conv(&f.ty, &item);
        return quote! {
            #d
            pub fn #n(mut self, #v: #t) -> Self {
                #target.push(#conv);
                self
            }

            #plural_doc
            pub fn #plural(mut self, values: impl IntoIterator<Item = #t>) -> Self {
                #target.extend(values.into_iter().map(|#item| #conv_item));
                self
            }
        };
    }
    match &f.ty {
        Ty::Vec(inner) => {
            let t = setter_arg(schema, inner, from);
            let item = format_ident!("item");
            let conv = setter_conv(inner, &item);
            quote! {
                #d
                pub fn #n(mut self, values: impl IntoIterator<Item = #t>) -> Self {
                    #target = Some(values.into_iter().map(|#item| #conv).collect());
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
                    #target = Some(#conv);
                    self
                }
            }
        }
    }
}

/// `impl Client { fn get_user_by_login(&self, login) -> Lookup<GetUsers> }`
/// for each parameter of the schema's `lookup`.
fn lookups(schema: &Schema, ep: &Endpoint, from: &[String]) -> TokenStream {
    let Some(l) = &ep.lookup else { return quote!() };
    let name = format_ident!("{}", ep.type_name);
    let fn_name = ident(&ep.fn_name);
    let calls = l.by.iter().filter_map(|b| ep.query.iter().find(|f| &f.wire == b)).map(|f| {
        let call = format_ident!("{}_by_{}", l.name, f.rust);
        let v = ident(&f.rust);
        let (t, build) = if f.required {
            (arg_ty(schema, f, from), quote!(self.#fn_name(#v)))
        } else {
            (setter_arg(schema, &f.ty, from), quote!(self.#fn_name().#v(#v)))
        };
        let d = doc(&format!(
            "Look one up by `{}`: [`Self::{}`] with that one value, answering the item or `None` when Twitch finds nothing.",
            f.wire, ep.fn_name
        ));
        let dep = deprecated(ep.deprecated.as_deref());
        quote! {
            #d
            #dep
            pub fn #call(&self, #v: #t) -> crate::__rt::Lookup<#name> {
                crate::__rt::Lookup::new(#build)
            }
        }
    });
    quote! {
        impl crate::Client {
            #(#calls)*
        }
    }
}

/// `id` → `ids`, `language` → `languages`, `status` → `statuses`.
pub fn plural(s: &str) -> String {
    if s.ends_with('s') || s.ends_with('x') || s.ends_with("ch") || s.ends_with("sh") {
        format!("{s}es")
    } else if s.ends_with('y') && !s.ends_with("ay") && !s.ends_with("ey") && !s.ends_with("oy") {
        format!("{}ies", &s[..s.len() - 1])
    } else {
        format!("{s}s")
    }
}

/// The type `send()` resolves to.
pub fn output_ty(schema: &Schema, ep: &Endpoint, from: &[String]) -> TokenStream {
    if let Some(r) = ep.response_struct() {
        let r = format_ident!("{}", r);
        return quote!(#r);
    }
    let item = || item_ty(schema, ep, from);
    match ep.response.shape {
        Shape::Data if ep.response.paginated => {
            let i = item();
            quote!(crate::Page<#i>)
        }
        Shape::Data => {
            let i = item();
            match ep.response.items {
                Items::Many => quote!(Vec<#i>),
                Items::One => i,
                Items::ZeroOrOne => quote!(Option<#i>),
            }
        }
        Shape::DataObject | Shape::Object => item(),
        Shape::None => quote!(()),
        Shape::Text => quote!(String),
    }
}

fn item_ty(schema: &Schema, ep: &Endpoint, from: &[String]) -> TokenStream {
    match &ep.response.model {
        Some(m) => named(schema, m, from),
        None => quote!(serde_json::Value),
    }
}

fn decode(ep: &Endpoint) -> TokenStream {
    let body = if ep.response_struct().is_some() {
        quote!(crate::__rt::decode::json(Self::META.id, body))
    } else {
        match ep.response.shape {
            Shape::Data if ep.response.paginated => quote!(crate::__rt::decode::json(Self::META.id, body)),
            Shape::Data => match ep.response.items {
                Items::Many => quote!(crate::__rt::decode::data(Self::META.id, body)),
                Items::One => quote!(crate::__rt::decode::data_one(Self::META.id, body)),
                Items::ZeroOrOne => quote!(crate::__rt::decode::data_zero_or_one(Self::META.id, body)),
            },
            Shape::DataObject => quote!(crate::__rt::decode::data_object(Self::META.id, body)),
            Shape::Object => quote!(crate::__rt::decode::json(Self::META.id, body)),
            Shape::None => quote!({
                let _ = body;
                Ok(())
            }),
            Shape::Text => quote!(crate::__rt::decode::text(Self::META.id, body)),
        }
    };
    quote! {
        #[inline]
        fn decode(body: &[u8]) -> crate::Result<Self::Output> {
            #body
        }
    }
}

/// `pub struct GetChannelFollowersResponse { data, total, cursor }`
fn response_struct(schema: &Schema, ep: &Endpoint, from: &[String]) -> TokenStream {
    let Some(name) = ep.response_struct() else { return quote!() };
    let name = format_ident!("{}", name);
    let item = item_ty(schema, ep, from);
    let data = match ep.response.shape {
        Shape::DataObject => quote! {
            /// The response's `data`.
            pub data: #item,
        },
        _ => quote! {
            /// The items of this page.
            #[serde(default, deserialize_with = "crate::__rt::de::null_as_default")]
            pub data: Vec<#item>,
        },
    };
    let extra = ep.response.extra.iter().map(|f| {
        let n = ident(&f.rust);
        let t = field_ty(schema, f, from);
        let d = doc(&f.doc);
        let rename = if f.rust != f.wire {
            let w = &f.wire;
            quote!(#[serde(rename = #w)])
        } else {
            quote!()
        };
        let opt = if f.option {
            quote!(#[serde(default, skip_serializing_if = "Option::is_none")])
        } else if f.ty.is_vec() {
            quote!(#[serde(default, deserialize_with = "crate::__rt::de::null_as_default")])
        } else {
            quote!()
        };
        let with = super::serde_with(f);
        quote!(#d #rename #opt #with pub #n: #t,)
    });
    let cursor = if ep.response.paginated {
        quote! {
            /// Cursor of the next page; `None` on the last page.
            #[serde(
                default,
                rename = "pagination",
                deserialize_with = "crate::__rt::de::cursor",
                serialize_with = "crate::__rt::de::serialize_cursor"
            )]
            pub cursor: Option<String>,
        }
    } else {
        quote!()
    };
    let d = doc(&format!("What [`{}`] returns.", ep.type_name));
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub struct #name {
            #data
            #(#extra)*
            #cursor
        }
    }
}

fn validate(ep: &Endpoint) -> TokenStream {
    let mut checks = Vec::new();
    let access = |f: &Field, body: bool| {
        let n = ident(&f.rust);
        if body { quote!(self.body.#n) } else { quote!(self.#n) }
    };
    for (f, body) in ep.query.iter().map(|f| (f, false)).chain(ep.body.iter().map(|f| (f, true))) {
        let w = &f.wire;
        let a = access(f, body);
        let optional = if body { f.option } else { !f.required && f.repeat.is_none() };
        if let Some(max) = f.repeat {
            let max = max as usize;
            checks.push(quote!(check::count(#w, #a.len(), #max)?;));
        }
        // Durations are checked to be whole in their unit even without a range.
        if f.min.is_some() || f.max.is_some() || matches!(f.ty, Ty::Duration(_)) {
            let min = opt_i64(f.min);
            let max = opt_i64(f.max);
            if let Ty::Duration(unit) = f.ty {
                let unit = format_ident!("{}", unit.variant());
                let unit = quote!(crate::__rt::duration::Unit::#unit);
                if optional {
                    checks.push(quote!(if let Some(v) = #a { check::duration(#w, v, #unit, #min, #max)?; }));
                } else {
                    checks.push(quote!(check::duration(#w, #a, #unit, #min, #max)?;));
                }
            } else if matches!(f.ty, Ty::Number) {
                if optional {
                    checks.push(quote!(if let Some(v) = #a { check::range_f64(#w, v, #min, #max)?; }));
                } else {
                    checks.push(quote!(check::range_f64(#w, #a, #min, #max)?;));
                }
            } else if f.repeat.is_some() {
                checks.push(quote!(for v in &#a { check::range(#w, *v, #min, #max)?; }));
            } else if optional {
                checks.push(quote!(if let Some(v) = #a { check::range(#w, v, #min, #max)?; }));
            } else {
                checks.push(quote!(check::range(#w, #a, #min, #max)?;));
            }
        }
        if let Some(l) = f.max_len {
            let l = l as usize;
            if f.ty.is_vec() || f.repeat.is_some() {
                // The limit applies to each element of a list.
                let iter = if optional && f.repeat.is_none() { quote!(#a.iter().flatten()) } else { quote!(#a.iter()) };
                checks.push(quote!(for v in #iter { check::max_len(#w, v, #l)?; }));
            } else if optional {
                checks.push(quote!(if let Some(v) = &#a { check::max_len(#w, v, #l)?; }));
            } else {
                checks.push(quote!(check::max_len(#w, &#a, #l)?;));
            }
        }
    }
    for r in &ep.rules {
        let set = r.params.iter().filter_map(|p| {
            let (f, body) = ep
                .query
                .iter()
                .map(|f| (f, false))
                .chain(ep.body.iter().map(|f| (f, true)))
                .find(|(f, _)| &f.wire == p)?;
            let a = access(f, body);
            let w = &f.wire;
            let is_set = if f.repeat.is_some() {
                quote!(!#a.is_empty())
            } else if f.required && !body || body && !f.option {
                quote!(true)
            } else {
                quote!(#a.is_some())
            };
            let count = if f.repeat.is_some() { quote!(#a.len()) } else { quote!(usize::from(#is_set)) };
            Some((w.clone(), is_set, count))
        });
        let set: Vec<_> = set.collect();
        let names: Vec<&String> = set.iter().map(|s| &s.0).collect();
        let flags: Vec<&TokenStream> = set.iter().map(|s| &s.1).collect();
        let counts: Vec<&TokenStream> = set.iter().map(|s| &s.2).collect();
        checks.push(match r.kind {
            RuleKind::Exclusive => quote!(check::exclusive(&[#((#names, #flags)),*])?;),
            RuleKind::OneOf => quote!(check::one_of(&[#((#names, #flags)),*])?;),
            RuleKind::AtLeastOne => quote!(check::at_least_one(&[#((#names, #flags)),*])?;),
            RuleKind::MaxTotal(max) => {
                let max = max as usize;
                quote!(check::max_total(&[#((#names, #counts)),*], #max)?;)
            }
        });
    }
    if checks.is_empty() {
        return quote!();
    }
    quote! {
        #[inline]
        fn validate(&self) -> Result<(), crate::__rt::InvalidParam> {
            use crate::__rt::check;
            #(#checks)*
            Ok(())
        }
    }
}

fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

fn meta(schema: &Schema, ep: &Endpoint) -> TokenStream {
    let id = &ep.id;
    let name = &ep.name;
    let summary = &ep.summary;
    let method = format_ident!("{}", {
        let m = ep.method.to_ascii_lowercase();
        let mut c = m.chars();
        c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
    });
    let path = &ep.path;
    let tokens = ep.tokens.iter().map(|t| match t.as_str() {
        "app" => quote!(crate::TokenKind::App),
        "user" => quote!(crate::TokenKind::User),
        "none" => quote!(crate::TokenKind::None),
        _ => quote!(crate::TokenKind::ExtensionJwt),
    });
    let scopes = ep.scopes.iter().map(|g| quote!(&[#(#g),*]));
    let idempotent = ep.idempotent;
    let paginated = ep.response.paginated;
    let beta = ep.beta;
    let status = ep.response.status;
    let shape = match ep.response.shape {
        Shape::Data => quote!(Data),
        Shape::DataObject => quote!(DataObject),
        Shape::Object => quote!(Object),
        Shape::None => quote!(None),
        Shape::Text => quote!(Text),
    };
    let params = |fields: &[Field]| {
        let ps = fields.iter().map(|f| {
            let n = &f.wire;
            let req = f.required;
            let rep = match f.repeat {
                Some(r) => quote!(Some(#r)),
                None => quote!(None),
            };
            let min = opt_i64(f.min);
            let max = opt_i64(f.max);
            let max_len = match f.max_len {
                Some(l) => quote!(Some(#l)),
                None => quote!(None),
            };
            let kind = wire_kind(schema, &f.ty);
            let values = enum_values(schema, &f.ty);
            quote!(crate::ParamMeta {
                name: #n,
                required: #req,
                repeat: #rep,
                min: #min,
                max: #max,
                max_len: #max_len,
                kind: crate::WireKind::#kind,
                values: &[#(#values),*],
            })
        });
        quote!(&[#(#ps),*])
    };
    let query = params(&ep.query);
    let body = params(&ep.body);
    let example = match &ep.example_response {
        Some(e) => quote!(crate::__example!(#e)),
        None => quote!(None),
    };
    let requests = ep.example_requests.iter().map(|r| &r.raw);
    let lifecycle = super::lifecycle(&ep.lifecycle);
    let feature = &ep.area_feature;
    let token_user = match &ep.token_user {
        Some(p) => quote!(Some(#p)),
        None => quote!(None),
    };
    let split = match &ep.split {
        Some((param, max)) => quote!(Some(crate::SplitMeta { param: #param, max: #max })),
        None => quote!(None),
    };
    let rules = ep.rules.iter().map(|r| {
        let kind = match r.kind {
            RuleKind::Exclusive => quote!(Exclusive),
            RuleKind::OneOf => quote!(OneOf),
            RuleKind::AtLeastOne => quote!(AtLeastOne),
            RuleKind::MaxTotal(n) => quote!(MaxTotal(#n)),
        };
        let ps = &r.params;
        quote!(crate::RuleMeta { kind: crate::RuleKind::#kind, params: &[#(#ps),*] })
    });
    let errors = ep.errors.iter().map(|e| {
        let (status, when, documented) = (e.status, &e.when, e.documented);
        quote!(crate::ErrorMeta { status: #status, when: #when, documented: #documented })
    });
    quote! {
        crate::EndpointMeta {
            id: #id,
            feature: #feature,
            name: #name,
            summary: #summary,
            method: crate::Method::#method,
            path: #path,
            tokens: &[#(#tokens),*],
            scopes: &[#(#scopes),*],
            idempotent: #idempotent,
            paginated: #paginated,
            beta: #beta,
            lifecycle: #lifecycle,
            token_user: #token_user,
            split: #split,
            success_status: #status,
            errors: &[#(#errors),*],
            response: crate::ResponseShape::#shape,
            query: #query,
            body: #body,
            rules: &[#(#rules),*],
            example_requests: crate::__example_requests!(#(#requests),*),
            example_response: #example,
        }
    }
}

/// The wire values of a parameter of an enumerated type (of each item,
/// for a list); none for other types.
fn enum_values<'a>(schema: &'a Schema, ty: &Ty) -> Vec<&'a str> {
    let name = match ty {
        Ty::Named(n) => n,
        Ty::Vec(inner) => match inner.as_ref() {
            Ty::Named(n) => n,
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    schema
        .modules
        .iter()
        .flat_map(|m| &m.enums)
        .find(|e| &e.name == name)
        .map(|e| e.values.iter().map(|v| v.wire.as_str()).collect())
        .unwrap_or_default()
}

/// The JSON kind of a parameter of this type (a repeated query parameter:
/// of each value).
fn wire_kind(schema: &Schema, ty: &Ty) -> TokenStream {
    match ty {
        Ty::String | Ty::Secret | Ty::UserId | Ty::UserLogin | Ty::Id(_) => quote!(String),
        Ty::Timestamp => quote!(Timestamp),
        Ty::Integer | Ty::Unsigned(_) => quote!(Integer),
        Ty::Duration(crate::model::TimeUnit::DecimalSeconds) | Ty::Number => quote!(Number),
        Ty::Duration(_) => quote!(Integer),
        Ty::Boolean => quote!(Boolean),
        Ty::Json => quote!(Any),
        Ty::Vec(_) => quote!(Array),
        Ty::Named(name) if schema.types.get(name).is_some_and(|t| t.is_enum) => quote!(String),
        Ty::Named(_) => quote!(Object),
    }
}

/// The endpoint's `Client` methods when its feature is off: hidden, with
/// the same arguments, and a bound no type meets, so a call fails to
/// compile with a message naming the feature (the marker trait's).
pub fn feature_off(ep: &Endpoint, feature: &super::features::Feature) -> TokenStream {
    let marker = feature.marker();
    let stub = |name: Ident, args: usize| {
        let params: Vec<Ident> = (0..args).map(|i| format_ident!("A{i}")).collect();
        let msg = format!("{} is off", feature.needs());
        quote! {
            #[doc(hidden)]
            pub fn #name<#(#params),*>(&self, #(_: #params),*) -> crate::__features::Off
            where
                for<'a> (): crate::__features::#marker,
            {
                unreachable!(#msg)
            }
        }
    };
    let mut fns = vec![stub(ident(&ep.fn_name), ep.required().count())];
    if let Some(l) = &ep.lookup {
        for b in &l.by {
            if let Some(f) = ep.query.iter().find(|f| &f.wire == b) {
                fns.push(stub(format_ident!("{}_by_{}", l.name, f.rust), 1));
            }
        }
    }
    quote! {
        impl crate::Client {
            #(#fns)*
        }
    }
}
