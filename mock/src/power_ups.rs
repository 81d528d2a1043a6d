//! Custom Power-ups, shared by the areas: a channel's own Bits rewards.
//!
//! Twitch has no Helix call that creates one (broadcasters make them on
//! Twitch's site), so the mock's control API and
//! [`MockServer::add_power_up`](crate::MockServer::add_power_up) do; Get
//! Custom Power-up lists them. A viewer redeeming one (also the control
//! API's, as on Twitch it happens on Twitch's site) goes out as
//! `channel.custom_power_up_redemption.add` and as `channel.bits.use` with
//! `type` `custom_power_up`, and counts against the Power-up's caps and
//! cooldown.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use twitch::Timestamp;

use crate::delivery;
use crate::state::{Inner, PowerUp, Shared, set_user};
use crate::util;

/// What a new custom Power-up is: title and price, the rest optional.
#[derive(Debug, Clone)]
#[must_use]
pub struct NewPowerUp {
    title: String,
    bits: u64,
    prompt: String,
    input_required: bool,
    max_per_stream: Option<u64>,
    max_per_user_per_stream: Option<u64>,
    cooldown: Option<Duration>,
    paused: bool,
}

impl NewPowerUp {
    /// A Power-up called `title` that costs `bits`.
    pub fn new(title: impl Into<String>, bits: u64) -> Self {
        Self {
            title: title.into(),
            bits,
            prompt: String::new(),
            input_required: false,
            max_per_stream: None,
            max_per_user_per_stream: None,
            cooldown: None,
            paused: false,
        }
    }

    /// Ask the viewer for text with this prompt.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self.input_required = true;
        self
    }

    /// At most `n` redemptions per stream.
    pub fn max_per_stream(mut self, n: u64) -> Self {
        self.max_per_stream = Some(n);
        self
    }

    /// At most `n` redemptions per viewer per stream.
    pub fn max_per_user_per_stream(mut self, n: u64) -> Self {
        self.max_per_user_per_stream = Some(n);
        self
    }

    /// This long between redemptions.
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = Some(d);
        self
    }

    /// Created paused: nobody can redeem it.
    pub fn paused(mut self) -> Self {
        self.paused = true;
        self
    }
}

/// Create a custom Power-up in a channel; returns it as Helix shows it.
pub(crate) fn add(shared: &Shared, broadcaster_id: &str, new: NewPowerUp) -> Result<Value, String> {
    if broadcaster_id.trim().is_empty() || new.title.trim().is_empty() {
        return Err("a custom Power-up needs a broadcaster and a title".into());
    }
    if new.bits == 0 {
        return Err("a custom Power-up costs at least one Bit".into());
    }
    let mut g = shared.lock();
    let power_up = PowerUp {
        id: util::uuid(),
        title: new.title,
        prompt: new.prompt,
        bits: new.bits,
        background_color: "#9147FF".into(),
        is_enabled: true,
        is_paused: new.paused,
        is_user_input_required: new.input_required,
        max_per_stream: new.max_per_stream,
        max_per_user_per_stream: new.max_per_user_per_stream,
        cooldown: new.cooldown,
        redeemed: 0,
        redeemed_by: HashMap::new(),
        cooling: None,
    };
    let item = to_json(&g, broadcaster_id, &power_up);
    g.power_ups.entry(broadcaster_id.to_owned()).or_default().push(power_up);
    Ok(item)
}

/// Get Custom Power-up: the channel's Power-ups, or those with the given
/// ids (404 when ids are given and none is found).
pub(crate) fn list(shared: &Shared, broadcaster_id: &str, ids: &[&str]) -> Result<Vec<Value>, (u16, String)> {
    let mut g = shared.lock();
    cool_down(&mut g, broadcaster_id);
    let all = g.power_ups.get(broadcaster_id).cloned().unwrap_or_default();
    let items: Vec<Value> = all
        .iter()
        .filter(|p| ids.is_empty() || ids.contains(&p.id.as_str()))
        .map(|p| to_json(&g, broadcaster_id, p))
        .collect();
    if !ids.is_empty() && items.is_empty() {
        return Err((404, "None of the IDs in the id query parameter were found.".into()));
    }
    Ok(items)
}

/// End cooldowns whose time is up.
fn cool_down(g: &mut Inner, broadcaster_id: &str) {
    let now = tokio::time::Instant::now();
    for p in g.power_ups.get_mut(broadcaster_id).into_iter().flatten() {
        if p.cooling.is_some_and(|(until, _)| until <= now) {
            p.cooling = None;
        }
    }
}

/// A Power-up as Get Custom Power-up answers it.
fn to_json(g: &Inner, broadcaster_id: &str, p: &PowerUp) -> Value {
    let broadcaster = g.user_or_synth(broadcaster_id);
    let capped = p.max_per_stream.is_some_and(|m| p.redeemed >= m);
    let image = |size: u32| format!("https://static-cdn.jtvnw.net/custom-power-up-images/default-{size}.png");
    json!({
        "broadcaster_id": broadcaster.id,
        "broadcaster_login": broadcaster.login,
        "broadcaster_name": broadcaster.display_name,
        "id": p.id,
        "title": p.title,
        "prompt": p.prompt,
        "bits": p.bits,
        "image": null,
        "default_image": {"url_1x": image(1), "url_2x": image(2), "url_4x": image(4)},
        "background_color": p.background_color,
        "is_enabled": p.is_enabled,
        "is_user_input_required": p.is_user_input_required,
        "max_per_stream_setting": {"is_enabled": p.max_per_stream.is_some(), "max_per_stream": p.max_per_stream.unwrap_or(0)},
        "max_per_user_per_stream_setting": {
            "is_enabled": p.max_per_user_per_stream.is_some(),
            "max_per_user_per_stream": p.max_per_user_per_stream.unwrap_or(0),
        },
        "global_cooldown_setting": {
            "is_enabled": p.cooldown.is_some(),
            "global_cooldown_seconds": p.cooldown.map(|d| d.as_secs()).unwrap_or(0),
        },
        "is_paused": p.is_paused,
        "is_in_stock": !capped && p.cooling.is_none(),
        "redemptions_redeemed_current_stream": p.max_per_stream.map(|_| p.redeemed),
        "cooldown_expires_at": p.cooling.map(|(_, at)| at.to_rfc3339_nanos()),
    })
}

/// What a redemption sent: its event, and how many notifications went out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PowerUpRedemption {
    /// The `channel.custom_power_up_redemption.add` event.
    pub event: Value,
    /// Notifications sent: the redemption and the matching `channel.bits.use`.
    pub delivered: usize,
}

/// A viewer redeems a Power-up: within its caps and cooldown, it goes out
/// as `channel.custom_power_up_redemption.add` (to subscriptions for the
/// channel, all Power-ups or this one) and as `channel.bits.use`.
pub(crate) fn redeem(
    shared: &Shared,
    broadcaster_id: &str,
    power_up_id: &str,
    user_id: &str,
    user_input: &str,
) -> Result<PowerUpRedemption, String> {
    let mut g = shared.lock();
    cool_down(&mut g, broadcaster_id);
    let broadcaster = g.user_or_synth(broadcaster_id);
    let user = g.user_or_synth(user_id);
    let Some(p) = g.power_ups.get_mut(broadcaster_id).and_then(|all| all.iter_mut().find(|p| p.id == power_up_id))
    else {
        return Err(format!("channel {broadcaster_id} has no custom Power-up {power_up_id}"));
    };
    if !p.is_enabled || p.is_paused {
        return Err(format!("custom Power-up {power_up_id} is disabled or paused"));
    }
    if p.cooling.is_some() {
        return Err(format!("custom Power-up {power_up_id} is cooling down"));
    }
    if p.max_per_stream.is_some_and(|m| p.redeemed >= m) {
        return Err(format!("custom Power-up {power_up_id} reached its limit for this stream"));
    }
    let mine = p.redeemed_by.get(user_id).copied().unwrap_or(0);
    if p.max_per_user_per_stream.is_some_and(|m| mine >= m) {
        return Err(format!("user {user_id} reached their limit for custom Power-up {power_up_id}"));
    }
    if p.is_user_input_required && user_input.trim().is_empty() {
        return Err(format!("custom Power-up {power_up_id} asks the viewer for input"));
    }
    p.redeemed += 1;
    *p.redeemed_by.entry(user_id.to_owned()).or_default() += 1;
    if let Some(d) = p.cooldown {
        p.cooling = Some((tokio::time::Instant::now() + d, Timestamp::from(SystemTime::now() + d)));
    }
    let (id, title, bits, prompt) = (p.id.clone(), p.title.clone(), p.bits, p.prompt.clone());

    let mut event = json!({
        "id": util::uuid(),
        "user_input": user_input,
        "status": "unfulfilled",
        "custom_power_up": {"id": id, "title": title, "bits": bits, "prompt": prompt},
        "redeemed_at": util::now_rfc3339(),
    });
    set_user(&mut event, "broadcaster_user", &broadcaster);
    set_user(&mut event, "user", &user);
    // Subscriptions for the channel take every Power-up, or only the one their reward_id names.
    let targets: Vec<_> = g
        .subs
        .iter()
        .filter(|s| s.status == "enabled" && s.sub_type == "channel.custom_power_up_redemption.add" && s.version == "1")
        .filter(|s| s.condition.get("broadcaster_user_id").and_then(Value::as_str) == Some(broadcaster_id))
        .filter(|s| s.condition.get("reward_id").and_then(Value::as_str).is_none_or(|r| r.is_empty() || r == id))
        .cloned()
        .collect();
    let mut delivered = targets.iter().filter(|s| delivery::deliver(&mut g, s, event.clone())).count();

    let mut bits_use = json!({
        "bits": bits,
        "type": "custom_power_up",
        "message": null,
        "power_up": null,
        "custom_power_up": {"title": title, "reward_id": id},
    });
    set_user(&mut bits_use, "broadcaster_user", &broadcaster);
    set_user(&mut bits_use, "user", &user);
    let condition = [("broadcaster_user_id", broadcaster_id)];
    delivered += delivery::deliver_matching(&mut g, "channel.bits.use", "1", &condition, &bits_use);
    Ok(PowerUpRedemption { event, delivered })
}
