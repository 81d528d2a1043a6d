//! The metadata tables: every endpoint and subscription type.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::features::{Features, feature_of};
use super::{cfg_all, ident};
use crate::model::Schema;

/// ```text
/// pub fn endpoints() -> Vec<&'static EndpointMeta>
/// pub fn endpoint(id) -> Option<&'static EndpointMeta>
/// pub fn subscriptions() -> Vec<&'static SubscriptionMeta>
/// pub fn subscription(type, version) -> Option<&'static SubscriptionMeta>
/// ```
pub fn tables(schema: &Schema, features: &Features) -> TokenStream {
    let mut eps = Vec::new();
    let mut subs = Vec::new();
    for m in &schema.modules {
        let own = feature_of(&m.path);
        let c = cfg_all(&[own.as_deref(), m.feature.as_deref()]);
        let segs: Vec<_> = m.path.iter().map(|s| ident(s)).collect();
        for e in &m.endpoints {
            let t = format_ident!("{}", e.type_name);
            eps.push(quote!(#c v.push(crate #(:: #segs)* :: #t::META);));
        }
        for s in &m.subscriptions {
            let t = format_ident!("{}", s.type_name);
            subs.push(quote!(#c v.push(crate #(:: #segs)* :: #t::META);));
        }
    }
    let withdrawn = schema.withdrawn.iter().map(|w| {
        let id = &w.id;
        let version = match &w.version {
            Some(v) => quote!(Some(#v)),
            None => quote!(None),
        };
        let name = &w.name;
        let endpoint = match &w.endpoint {
            Some((method, path)) => {
                let m = format_ident!("{}", method.to_ascii_lowercase().to_upper_camel_case());
                quote!(Some((crate::Method::#m, #path)))
            }
            None => quote!(None),
        };
        let lifecycle = super::lifecycle(&w.lifecycle);
        let replaced_by = match &w.replaced_by {
            Some(r) => quote!(Some(#r)),
            None => quote!(None),
        };
        let (status, error, message) = (w.status, &w.error, &w.message);
        quote! {
            crate::WithdrawnMeta {
                id: #id,
                version: #version,
                name: #name,
                endpoint: #endpoint,
                lifecycle: #lifecycle,
                replaced_by: #replaced_by,
                status: #status,
                error: #error,
                message: #message,
            }
        }
    });
    let feature_rows = features.list.iter().map(|f| {
        let name = &f.name;
        let enabled = match &f.also {
            Some(a) => quote!(cfg!(all(feature = #name, feature = #a))),
            None => quote!(cfg!(feature = #name)),
        };
        let also = match &f.also {
            Some(a) => quote!(Some(#a)),
            None => quote!(None),
        };
        let endpoints = &f.endpoints;
        let subs = f.subscriptions.iter().map(|(t, v)| quote!((#t, #v)));
        quote! {
            crate::FeatureMeta {
                name: #name,
                also: #also,
                enabled: #enabled,
                endpoints: &[#(#endpoints),*],
                subscriptions: &[#(#subs),*],
            }
        }
    });
    quote! {
        /// The crate's features by area of the API, one per Helix category
        /// and EventSub group, with what each turns on and whether this build
        /// has it. Listed whatever features are on.
        pub fn features() -> &'static [crate::FeatureMeta] {
            &[#(#feature_rows),*]
        }

        /// The feature an endpoint needs, by its id (`send-chat-message` →
        /// `helix-chat`), whatever features are on.
        pub fn feature_of_endpoint(id: &str) -> Option<&'static crate::FeatureMeta> {
            features().iter().find(|f| f.endpoints.contains(&id))
        }

        /// The feature a subscription type and version needs
        /// (`channel.chat.message`, `1` → `eventsub-channel`), whatever features are on.
        pub fn feature_of_subscription(subscription_type: &str, version: &str) -> Option<&'static crate::FeatureMeta> {
            features().iter().find(|f| f.subscriptions.contains(&(subscription_type, version)))
        }

        /// What Twitch has withdrawn (endpoints and subscription
        /// type-versions it no longer serves), with the answer it gives a
        /// request for one now. Listed whatever features are on.
        pub fn withdrawn() -> &'static [crate::WithdrawnMeta] {
            &[#(#withdrawn),*]
        }

        /// Every Helix endpoint in the schema whose feature is on, in schema order.
        #[allow(clippy::vec_init_then_push, unused_mut)]
        pub fn endpoints() -> Vec<&'static crate::EndpointMeta> {
            let mut v = Vec::new();
            #(#eps)*
            v
        }

        /// The endpoint with this id (Twitch's reference anchor, e.g. `get-users`).
        pub fn endpoint(id: &str) -> Option<&'static crate::EndpointMeta> {
            endpoints().into_iter().find(|e| e.id == id)
        }

        /// Every EventSub subscription type and version in the schema whose feature is on.
        #[allow(clippy::vec_init_then_push, unused_mut)]
        pub fn subscriptions() -> Vec<&'static crate::SubscriptionMeta> {
            let mut v = Vec::new();
            #(#subs)*
            v
        }

        /// The subscription type at this version.
        pub fn subscription(subscription_type: &str, version: &str) -> Option<&'static crate::SubscriptionMeta> {
            subscriptions().into_iter().find(|s| s.subscription_type == subscription_type && s.version == version)
        }
    }
}
