"""Who is clicking: a coarse class of the user agent (never the string itself), and whether
it is a crawler or a social network's link-preview fetcher, which must not count."""

from __future__ import annotations

import re
from functools import lru_cache

# Link-preview fetchers of the social networks and messengers, search crawlers, monitoring
# and HTTP libraries: none of them is a person following a shared link.
_BOTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|"
    r"twitterbot|linkedinbot|slackbot|slack-imgproxy|whatsapp|discordbot|telegrambot|"
    r"googlebot|google-inspectiontool|googleother|bingbot|bingpreview|applebot|yandex|baidu|"
    r"duckduckbot|pinterest|redditbot|embedly|quora link preview|skypeuripreview|vkshare|"
    r"iframely|outbrain|nuzzel|bitlybot|tumblr|viber|snapchat|line-poker|mastodon|"
    r"headlesschrome|phantomjs|lighthouse|preview|fetcher|monitor|uptime|"
    r"curl/|wget/|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java/|"
    r"libwww|scrapy|node-fetch|axios",
    re.IGNORECASE,
)
_MOBILE = re.compile(r"mobile|android|iphone|ipad|ipod", re.IGNORECASE)


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> str:
    """'bot', 'mobile', 'desktop' or 'other' (cached: a few agents make most clicks)."""
    if not user_agent or _BOTS.search(user_agent):
        return "bot"
    if not user_agent.startswith("Mozilla/"):
        return "other"
    return "mobile" if _MOBILE.search(user_agent) else "desktop"
