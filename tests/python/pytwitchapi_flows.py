"""pyTwitchAPI's core flows against a running twitch-mock.

Run by tests/tests/mock_python_client.rs (which starts the mock on
127.0.0.1) as `python pytwitchapi_flows.py MOCK_URL CLIENT_ID PAGE_ITEMS`.
The library is used as its documentation shows, with only its own
settings for other URLs (`base_url`, `auth_base_url`, `connection_url`,
`subscription_url`). Prints one `ok <flow>` line per flow and exits 0;
the first failure raises (exit 1, with the traceback).
"""

import asyncio
import json
import sys
import threading
import urllib.request

from twitchAPI.eventsub.websocket import EventSubWebsocket
from twitchAPI.twitch import Twitch
from twitchAPI.type import AuthScope

BROADCASTER_ID = "141981764"
BROADCASTER_LOGIN = "twitchdev"
SCOPES = [AuthScope.USER_READ_CHAT, AuthScope.USER_WRITE_CHAT, AuthScope.CHANNEL_MANAGE_REDEMPTIONS, AuthScope.CHANNEL_READ_REDEMPTIONS,
          AuthScope.CHANNEL_MANAGE_BROADCAST]
# Hang guard for anything awaited; not a claim about speed.
GUARD = 30.0


def ok(flow):
    print(f"ok {flow}", flush=True)


def control(url, path, body):
    """The mock's control API (not part of pyTwitchAPI): JSON in and out."""
    req = urllib.request.Request(f"{url}/control/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=GUARD) as resp:
        return json.loads(resp.read() or b"{}")


class Inbox:
    """Events the EventSub thread hands over to the main loop."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    async def callback(self, event):
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait_for(self, pred):
        def check():
            with self.cond:
                if not self.cond.wait_for(lambda: any(pred(e) for e in self.items), timeout=GUARD):
                    raise AssertionError(f"no matching event in {GUARD}s; got {len(self.items)}")
        return asyncio.to_thread(check)


async def wait_until(pred, what):
    for _ in range(int(GUARD * 10)):
        if pred():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def main(url, client_id, page_items):
    # App token: client credentials at the mock's /oauth2/token.
    twitch = await Twitch(client_id, "any-secret", base_url=f"{url}/helix/", auth_base_url=f"{url}/oauth2/")
    assert twitch.get_app_token(), "no app token"
    ok("app token")

    users = [u async for u in twitch.get_users(logins=[BROADCASTER_LOGIN])]
    assert [u.id for u in users] == [BROADCASTER_ID], users
    ok("read with app token: get_users")

    # Pagination: pyTwitchAPI follows the cursor until the last page.
    streams = [s async for s in twitch.get_streams(first=20)]
    ids = {s.id for s in streams}
    assert len(streams) == page_items and len(ids) == page_items, (len(streams), len(ids), page_items)
    ok(f"pagination: get_streams walked {len(streams)} streams in pages of 20")

    # A user token from the mock (Twitch would give one through a browser),
    # validated by the library at /oauth2/validate. It comes without a
    # refresh token, so the library must not plan to refresh it.
    twitch.auto_refresh_auth = False
    token = control(url, "tokens", {"kind": "user", "user_id": BROADCASTER_ID, "login": BROADCASTER_LOGIN,
                                    "scopes": [s.value for s in SCOPES]})["access_token"]
    await twitch.set_user_authentication(token, SCOPES, validate=True)
    ok("user token validated")

    # Writes answer with what was written, and reads show it.
    reward = await twitch.create_custom_reward(BROADCASTER_ID, title="mock reward", cost=100)
    assert (reward.title, reward.cost) == ("mock reward", 100), reward
    rewards = await twitch.get_custom_reward(BROADCASTER_ID, reward_id=reward.id)
    assert [(r.id, r.title, r.cost) for r in rewards] == [(reward.id, "mock reward", 100)], rewards
    ok("write then read: custom reward")

    assert await twitch.modify_channel_information(BROADCASTER_ID, title="pyTwitchAPI against twitch-mock")
    info = await twitch.get_channel_information(BROADCASTER_ID)
    assert [i.title for i in info] == ["pyTwitchAPI against twitch-mock"], info
    ok("write then read: channel information")

    # EventSub over the mock's WebSocket; subscriptions through its Helix.
    eventsub = EventSubWebsocket(twitch, connection_url=url.replace("http://", "ws://") + "/ws",
                                 subscription_url=f"{url}/helix/")
    eventsub.start()
    try:
        inbox = Inbox()
        sub_id = await eventsub.listen_channel_chat_message(BROADCASTER_ID, BROADCASTER_ID, inbox.callback)
        first_session = eventsub.active_session.id
        ok(f"eventsub subscribe on session {first_session}")

        sent = control(url, "trigger", {"type": "channel.chat.message", "subscription_id": sub_id})
        assert sent, sent
        await inbox.wait_for(lambda e: e.subscription.id == sub_id and e.event.broadcaster_user_id == BROADCASTER_ID)
        ok("triggered event received")

        # session_reconnect: the library moves to the reconnect URL and keeps
        # its subscriptions; a message sent afterwards still arrives. As on
        # Twitch, the reconnect URL welcomes the same session id, so the move
        # shows as the library's connection (its own attribute) being a new one.
        old_connection = eventsub._connection
        control(url, "reconnect", {"session_id": first_session})
        await wait_until(lambda: eventsub._connection is not old_connection and not eventsub._connection.closed,
                         "the library to move to the reconnect URL")
        assert eventsub.active_session.id == first_session, eventsub.active_session
        ok(f"reconnect: a new connection to session {first_session}")

        text = "sent after the reconnect"
        resp = await twitch.send_chat_message(BROADCASTER_ID, BROADCASTER_ID, text)
        assert resp.is_sent, resp
        await inbox.wait_for(lambda e: e.event.message.text == text)
        ok("send_chat_message delivered as an event after the reconnect")
    finally:
        await eventsub.stop()
        await twitch.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])))
    print("all flows passed", flush=True)
