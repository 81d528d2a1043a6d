//! The chat message as a bot reads it: badges, fragments, replies, emote
//! images.

use twitch::eventsub::channel::{
    ChannelChatMessageV1Event, ChatMessageCheermote, ChatMessageEmote, ChatMessageFragmentType, ChatMessageMention,
};
use twitch::ids::MessageId;

/// A `channel.chat.message` event.
pub type ChatMessage = ChannelChatMessageV1Event;

/// One part of a message, by kind.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Fragment<'a> {
    /// Plain text.
    Text(&'a str),
    /// An emote, with its text (the emote's name).
    Emote(&'a str, &'a ChatMessageEmote),
    /// A cheermote (Bits), with its text.
    Cheermote(&'a str, &'a ChatMessageCheermote),
    /// An @mention, with its text.
    Mention(&'a str, &'a ChatMessageMention),
    /// A kind this version does not know, or one whose details are
    /// missing: its text.
    Other(&'a str),
}

/// Badges, fragments and replies of a [`ChatMessage`].
pub trait MessageExt {
    /// Sent by the channel's broadcaster.
    fn is_broadcaster(&self) -> bool;
    /// Has the moderator badge.
    fn is_moderator(&self) -> bool;
    /// Has the VIP badge.
    fn is_vip(&self) -> bool;
    /// Has the subscriber (or founder) badge.
    fn is_subscriber(&self) -> bool;
    /// Months subscribed, from the subscriber or founder badge's `info`.
    fn subscriber_months(&self) -> Option<u32>;
    /// Has a badge of this set (`bits`, `turbo`, ...).
    fn has_badge(&self, set_id: &str) -> bool;
    /// The parts of the message, by kind.
    fn fragments(&self) -> Vec<Fragment<'_>>;
    /// The message this one replies to, if it is a reply.
    fn reply_parent(&self) -> Option<&MessageId>;
    /// The first message of the reply thread, if it is a reply.
    fn reply_thread(&self) -> Option<&MessageId>;
}

impl MessageExt for ChatMessage {
    fn is_broadcaster(&self) -> bool {
        self.chatter_user_id == self.broadcaster_user_id || self.has_badge("broadcaster")
    }

    fn is_moderator(&self) -> bool {
        self.has_badge("moderator")
    }

    fn is_vip(&self) -> bool {
        self.has_badge("vip")
    }

    fn is_subscriber(&self) -> bool {
        self.has_badge("subscriber") || self.has_badge("founder")
    }

    fn subscriber_months(&self) -> Option<u32> {
        self.badges.iter().find(|b| *b.set_id == *"subscriber" || *b.set_id == *"founder")?.info.parse().ok()
    }

    fn has_badge(&self, set_id: &str) -> bool {
        self.badges.iter().any(|b| *b.set_id == *set_id)
    }

    fn fragments(&self) -> Vec<Fragment<'_>> {
        self.message
            .fragments
            .iter()
            .map(|f| {
                let text = f.text.as_str();
                match (&f.fragment_type, &f.emote, &f.cheermote, &f.mention) {
                    (ChatMessageFragmentType::Text, ..) => Fragment::Text(text),
                    (ChatMessageFragmentType::Emote, Some(e), ..) => Fragment::Emote(text, e),
                    (ChatMessageFragmentType::Cheermote, _, Some(c), _) => Fragment::Cheermote(text, c),
                    (ChatMessageFragmentType::Mention, .., Some(m)) => Fragment::Mention(text, m),
                    _ => Fragment::Other(text),
                }
            })
            .collect()
    }

    fn reply_parent(&self) -> Option<&MessageId> {
        self.reply.as_ref().map(|r| &r.parent_message_id)
    }

    fn reply_thread(&self) -> Option<&MessageId> {
        self.reply.as_ref().map(|r| &r.thread_message_id)
    }
}

/// Static PNG or animated GIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmoteFormat {
    /// PNG.
    Static,
    /// GIF (only for emotes that have one: see the emote's `format`).
    Animated,
}

/// Light or dark chat background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmoteTheme {
    /// For a light background.
    Light,
    /// For a dark background.
    Dark,
}

/// Image size: 1x (28 px), 2x, 3x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmoteScale {
    /// 1.0
    X1,
    /// 2.0
    X2,
    /// 3.0
    X3,
}

/// The image URL of an emote, from the CDN template Twitch documents
/// (`https://static-cdn.jtvnw.net/emoticons/v2/{id}/{format}/{theme_mode}/{scale}`).
pub fn emote_url(emote_id: &str, format: EmoteFormat, theme: EmoteTheme, scale: EmoteScale) -> String {
    let format = match format {
        EmoteFormat::Static => "static",
        EmoteFormat::Animated => "animated",
    };
    let theme = match theme {
        EmoteTheme::Light => "light",
        EmoteTheme::Dark => "dark",
    };
    let scale = match scale {
        EmoteScale::X1 => "1.0",
        EmoteScale::X2 => "2.0",
        EmoteScale::X3 => "3.0",
    };
    format!("https://static-cdn.jtvnw.net/emoticons/v2/{emote_id}/{format}/{theme}/{scale}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emote_urls_follow_the_template() {
        assert_eq!(
            emote_url("emotesv2_abc", EmoteFormat::Animated, EmoteTheme::Dark, EmoteScale::X3),
            "https://static-cdn.jtvnw.net/emoticons/v2/emotesv2_abc/animated/dark/3.0"
        );
    }
}
