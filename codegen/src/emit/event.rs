//! EventSub subscription types and the crate-wide `Event` enum.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{cfg_all, doc, named, scopes_text};
use crate::model::{Schema, Subscription};

/// ```text
/// impl SubscriptionType for ChannelFollowV2 { TYPE, VERSION, Event, META }
/// ```
/// The condition struct itself is emitted as an input model.
pub fn subscription(schema: &Schema, s: &Subscription, from: &[String]) -> TokenStream {
    let name = format_ident!("{}", s.type_name);
    let event = named(schema, &s.event, from);
    let event = if s.batched { quote!(Vec<#event>) } else { event };
    let ty = &s.ty;
    let version = &s.version;
    let meta = meta(s);
    quote! {
        impl #name {
            /// What this crate knows about the subscription type.
            pub const META: &'static crate::SubscriptionMeta = &#meta;
        }

        impl crate::__rt::SubscriptionType for #name {
            const TYPE: &'static str = #ty;
            const VERSION: &'static str = #version;
            type Event = #event;

            fn meta(&self) -> &'static crate::SubscriptionMeta {
                Self::META
            }
        }
    }
}

pub fn subscription_doc(s: &Subscription) -> String {
    let mut d =
        format!("{}\n\n`{}` version `{}` ([Twitch reference]({}))", s.summary, s.ty, s.version, s.reference_url);
    if !s.scopes.is_empty() {
        d.push_str(&format!("\n\nScopes: {}.", scopes_text(&s.scopes)));
    }
    for (g, when) in &s.conditional_scopes {
        d.push_str(&format!(" Also {} when {}.", scopes_text(g), when.trim_end_matches('.')));
    }
    d.push_str(&format!("\n\nTransports: {}.", s.transports.join(", ")));
    if s.beta {
        d.push_str("\n\nTwitch marks this subscription type as beta.");
    }
    let dates = s.lifecycle.sentence();
    if !dates.is_empty() {
        d.push_str(&format!("\n\n{dates}"));
    }
    d
}

fn meta(s: &Subscription) -> TokenStream {
    let ty = &s.ty;
    let version = &s.version;
    let feature = &s.area_feature;
    let name = &s.name;
    let summary = &s.summary;
    let scopes = s.scopes.iter().map(|g| quote!(&[#(#g),*]));
    let transports = &s.transports;
    let beta = s.beta;
    let lifecycle = super::lifecycle(&s.lifecycle);
    let batched = s.batched;
    let condition = s.condition.iter().map(|f| &f.wire);
    let example = match &s.example {
        Some(e) => quote!(crate::__example!(#e)),
        None => quote!(None),
    };
    quote! {
        crate::SubscriptionMeta {
            subscription_type: #ty,
            version: #version,
            feature: #feature,
            name: #name,
            summary: #summary,
            scopes: &[#(#scopes),*],
            transports: &[#(#transports),*],
            condition: &[#(#condition),*],
            beta: #beta,
            lifecycle: #lifecycle,
            batched: #batched,
            example: #example,
        }
    }
}

/// ```text
/// #[non_exhaustive] pub enum Event { ChannelFollowV2(channel::ChannelFollowV2Event), ..., Unknown(Box<UnknownEvent>) }
/// impl Event { fn subscription_type(), fn version() }
/// impl EventPayload for Event { fn decode(type, version, raw), fn deserialize_event(type, version, de), fn unknown(raw) }
/// ```
pub fn event_enum(schema: &Schema) -> TokenStream {
    let subs: Vec<&Subscription> = schema.modules.iter().flat_map(|m| m.subscriptions.iter()).collect();
    let from = ["eventsub".to_owned()];
    let variants = subs.iter().map(|s| {
        let v = format_ident!("{}", s.type_name);
        let e = named(schema, &s.event, &from);
        // Boxed: events differ a lot in size, and the enum moves through channels.
        let e = if s.batched { quote!(Vec<#e>) } else { quote!(Box<#e>) };
        let c = cfg_all(&[Some(s.area_feature.as_str()), s.feature.as_deref()]);
        let d = doc(&format!("`{}` version `{}`: {} (feature `{}`)", s.ty, s.version, s.summary, s.area_feature));
        quote!(#d #c #v(#e),)
    });
    let arms = subs.iter().map(|s| {
        let v = format_ident!("{}", s.type_name);
        let ty = &s.ty;
        let ver = &s.version;
        let c = cfg_all(&[Some(s.area_feature.as_str()), s.feature.as_deref()]);
        if s.batched {
            quote!(#c (#ty, #ver) => crate::__rt::decode::event(ty, version, raw).map(Self::#v),)
        } else {
            quote!(#c (#ty, #ver) => crate::__rt::decode::event(ty, version, raw).map(|e| Self::#v(Box::new(e))),)
        }
    });
    let de_arms = subs.iter().map(|s| {
        let v = format_ident!("{}", s.type_name);
        let e = named(schema, &s.event, &from);
        let ty = &s.ty;
        let ver = &s.version;
        let c = cfg_all(&[Some(s.area_feature.as_str()), s.feature.as_deref()]);
        if s.batched {
            quote!(#c (#ty, #ver) => <Vec<#e> as serde::Deserialize>::deserialize(de).map(Self::#v),)
        } else {
            quote!(#c (#ty, #ver) => <#e as serde::Deserialize>::deserialize(de).map(|e| Self::#v(Box::new(e))),)
        }
    });
    let ty_arms = subs.iter().map(|s| {
        let v = format_ident!("{}", s.type_name);
        let ty = &s.ty;
        let ver = &s.version;
        let c = cfg_all(&[Some(s.area_feature.as_str()), s.feature.as_deref()]);
        quote!(#c Self::#v(_) => (#ty, #ver),)
    });
    let from_event = subs.iter().map(|s| {
        let v = format_ident!("{}", s.type_name);
        let sub = named(schema, &s.type_name, &from);
        let c = cfg_all(&[Some(s.area_feature.as_str()), s.feature.as_deref()]);
        let (owned, by_ref) = if s.batched { (quote!(e), quote!(e)) } else { (quote!(*e), quote!(&**e)) };
        quote! {
            #c
            impl crate::__rt::FromEvent<Event> for #sub {
                #[inline]
                fn from_event(event: Event) -> std::result::Result<Self::Event, Event> {
                    match event {
                        Event::#v(e) => Ok(#owned),
                        other => Err(other),
                    }
                }

                #[inline]
                fn from_event_ref(event: &Event) -> Option<&Self::Event> {
                    match event {
                        Event::#v(e) => Some(#by_ref),
                        _ => None,
                    }
                }
            }
        }
    });
    quote! {
        /// Every EventSub event this crate knows, by subscription type and version.
        ///
        /// A type or version that is not in the schema yet decodes as
        /// [`Event::Unknown`] with its raw JSON, so a new Twitch event never
        /// breaks a stream.
        ///
        /// A variant is there when the feature of its EventSub group is on
        /// (each variant names it; `eventsub` turns on every group). An
        /// event of a group that is off decodes as [`Event::Unknown`] too.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            #(#variants)*
            /// A subscription type or version this crate does not know.
            Unknown(Box<crate::UnknownEvent>),
        }

        impl Event {
            /// The subscription type and version this event belongs to.
            pub fn kind(&self) -> (&str, &str) {
                match self {
                    #(#ty_arms)*
                    Self::Unknown(u) => (u.subscription_type.as_str(), u.version.as_str()),
                }
            }

            /// The subscription type, e.g. `channel.follow`.
            pub fn subscription_type(&self) -> &str {
                self.kind().0
            }

            /// The subscription version, e.g. `2`.
            pub fn version(&self) -> &str {
                self.kind().1
            }

            /// This event as subscription type `T`'s, or the event back if it
            /// is another type's: `event.downcast::<ChannelFollowV2>()`.
            #[inline]
            pub fn downcast<T: crate::__rt::FromEvent<Self>>(self) -> std::result::Result<T::Event, Self> {
                T::from_event(self)
            }

            /// This event as subscription type `T`'s, by reference.
            #[inline]
            pub fn downcast_ref<T: crate::__rt::FromEvent<Self>>(&self) -> Option<&T::Event> {
                T::from_event_ref(self)
            }
        }

        #(#from_event)*

        impl crate::__rt::EventPayload for Event {
            // Inline: only programs that decode events pay for every event's decoder.
            #[inline]
            fn decode(ty: &str, version: &str, raw: &str) -> std::result::Result<Self, crate::__rt::DecodeError> {
                match (ty, version) {
                    #(#arms)*
                    _ => Ok(Self::Unknown(Box::new(crate::UnknownEvent::new(ty, version, raw)))),
                }
            }

            #[inline]
            fn deserialize_event<'de, D: serde::Deserializer<'de>>(
                ty: &str,
                version: &str,
                de: D,
            ) -> std::result::Result<Self, D::Error> {
                match (ty, version) {
                    #(#de_arms)*
                    _ => <serde_json::Value as serde::Deserialize>::deserialize(de)
                        .map(|raw| Self::Unknown(Box::new(crate::UnknownEvent::from_value(ty, version, raw)))),
                }
            }

            fn unknown(event: crate::UnknownEvent) -> Self {
                Self::Unknown(Box::new(event))
            }

            fn kind(&self) -> (&str, &str) {
                Event::kind(self)
            }

            fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }
    }
}
