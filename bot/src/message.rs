//! The chat message as a bot reads it: badges, fragments, replies, emote
//! images.

use twitch::eventsub::channel::ChannelChatMessageV1Event;
use twitch::ids::MessageId;
use twitch::shared::ChatMessageFragmentKind;

/// A `channel.chat.message` event.
pub type ChatMessage = ChannelChatMessageV1Event;

/// Badges, parts and replies of a [`ChatMessage`].
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
    /// The parts of the message: each one's text and its kind with the
    /// details (emote, cheermote, mention), from the generated
    /// `ChatMessageFragment::kind`.
    fn parts(&self) -> Vec<(&str, ChatMessageFragmentKind<'_>)>;
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

    fn parts(&self) -> Vec<(&str, ChatMessageFragmentKind<'_>)> {
        self.message.fragments.iter().map(|f| (f.text.as_str(), f.kind())).collect()
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

/// Characters chat clients add that are not meant as part of a message:
/// the suffix that gets a repeated message past Twitch's duplicate filter
/// (U+E0000 TAG SPACE, U+034F COMBINING GRAPHEME JOINER, usually after a
/// space) and the zero-width characters seen in the wild.
const INVISIBLE: &[char] =
    &['\u{E0000}', '\u{034F}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{180E}'];

/// The text without [`INVISIBLE`] characters (borrowed when it has none):
/// what commands are matched and their arguments parsed from.
pub fn without_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(INVISIBLE) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !INVISIBLE.contains(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_badges_and_replies() {
        let m: ChatMessage = serde_json::from_value(serde_json::json!({
            "broadcaster_user_id": "1", "broadcaster_user_login": "chan", "broadcaster_user_name": "Chan",
            "chatter_user_id": "5", "chatter_user_login": "fan", "chatter_user_name": "Fan",
            "message_id": "m", "message_type": "text", "color": "",
            "message": {"text": "hi Kappa @chan Cheer100", "fragments": [
                {"type": "text", "text": "hi ", "cheermote": null, "emote": null, "mention": null},
                {"type": "emote", "text": "Kappa", "cheermote": null, "mention": null,
                 "emote": {"id": "25", "emote_set_id": "0", "owner_id": "0", "format": ["static"]}},
                {"type": "mention", "text": "@chan", "cheermote": null, "emote": null,
                 "mention": {"user_id": "1", "user_name": "Chan", "user_login": "chan"}},
                {"type": "cheermote", "text": "Cheer100", "emote": null, "mention": null,
                 "cheermote": {"prefix": "cheer", "bits": 100, "tier": 1}},
                {"type": "sticker", "text": "?", "cheermote": null, "emote": null, "mention": null},
                {"type": "emote", "text": "NoDetails", "cheermote": null, "emote": null, "mention": null}
            ]},
            "badges": [{"set_id": "subscriber", "id": "3012", "info": "14"}, {"set_id": "vip", "id": "1", "info": ""}],
            "reply": {"parent_message_id": "p", "parent_message_body": "x", "parent_user_id": "1",
                      "parent_user_name": "Chan", "parent_user_login": "chan", "thread_message_id": "t",
                      "thread_user_id": "1", "thread_user_name": "Chan", "thread_user_login": "chan"}
        }))
        .unwrap();
        let parts = m.parts();
        assert_eq!(parts[0], ("hi ", ChatMessageFragmentKind::Text));
        assert!(matches!(parts[1], ("Kappa", ChatMessageFragmentKind::Emote(e)) if *e.id == *"25"));
        assert!(matches!(parts[2], ("@chan", ChatMessageFragmentKind::Mention(u)) if u.user_login == "chan"));
        assert!(matches!(parts[3], ("Cheer100", ChatMessageFragmentKind::Cheermote(c)) if c.bits == 100));
        // A kind this version does not know, and one without its details.
        assert_eq!(parts[4].1, ChatMessageFragmentKind::Other);
        assert_eq!(parts[5].1, ChatMessageFragmentKind::Other);
        assert!(m.is_subscriber() && m.is_vip() && !m.is_moderator() && !m.is_broadcaster());
        assert_eq!(m.subscriber_months(), Some(14));
        assert_eq!((m.reply_parent().unwrap().as_str(), m.reply_thread().unwrap().as_str()), ("p", "t"));
    }

    #[test]
    fn emote_urls_follow_the_template() {
        assert_eq!(
            emote_url("emotesv2_abc", EmoteFormat::Animated, EmoteTheme::Dark, EmoteScale::X3),
            "https://static-cdn.jtvnw.net/emoticons/v2/emotesv2_abc/animated/dark/3.0"
        );
    }
}
