#!/usr/bin/python3
"""Reads an RSS feed file with real parsers and prints what they saw, as
JSON, for t/095-rss.t to check:

    t/rss-parse.py feedparser FEED.xml
        Debian's python3-feedparser: {"bozo", "bozo_exception", "version",
        "namespaces", "feed": {title, link, subtitle, language, ttl,
        updated (Unix s), self (the rel="self" link)}, "entries": [{title,
        link, id, guidislink, author, published (Unix s), tags, summary,
        content (the content:encoded value)}]}

    t/rss-parse.py newsboat FEED-URL DIR
        the terminal feed reader newsboat, run without a terminal
        (newsboat -x reload) with its urls, config and cache in DIR: the
        items it stored, newest first: {"exit", "items": [{title, guid,
        url, pubDate (Unix s), unread}]}
"""

import calendar
import json
import os
import sqlite3
import subprocess
import sys


def with_feedparser(path):
    import feedparser

    with open(path, "rb") as fh:
        data = fh.read()
    d = feedparser.parse(data)
    f = d.feed

    def epoch(t):
        return calendar.timegm(t) if t else None

    out = {
        "bozo": bool(d.bozo),
        "bozo_exception": repr(d.get("bozo_exception")) if d.bozo else None,
        "version": d.version,
        "namespaces": dict(d.namespaces),
        "feed": {
            "title": f.get("title"),
            "link": f.get("link"),
            "subtitle": f.get("subtitle"),
            "language": f.get("language"),
            "ttl": f.get("ttl"),
            "updated": epoch(f.get("updated_parsed")),
            "self": [l.get("href") for l in f.get("links", [])
                     if l.get("rel") == "self"],
        },
        "entries": [],
    }
    for e in d.entries:
        out["entries"].append({
            "title": e.get("title"),
            "link": e.get("link"),
            "id": e.get("id"),
            "guidislink": e.get("guidislink"),
            "author": e.get("author"),
            "published": epoch(e.get("published_parsed")),
            "published_raw": e.get("published"),
            "tags": [t.get("term") for t in e.get("tags", [])],
            "summary": e.get("summary"),
            "content": [c.get("value") for c in e.get("content", [])],
        })
    return out


def with_newsboat(url, folder):
    urls = os.path.join(folder, "urls")
    conf = os.path.join(folder, "config")
    cache = os.path.join(folder, "cache.db")
    with open(urls, "w") as fh:
        fh.write(url + "\n")
    with open(conf, "w") as fh:
        fh.write("reload-threads 1\n")
    env = dict(os.environ, HOME=folder, TERM="dumb")
    env.pop("http_proxy", None)
    env.pop("HTTP_PROXY", None)
    p = subprocess.run(["newsboat", "-u", urls, "-C", conf, "-c", cache,
                        "-x", "reload"], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    items = []
    if os.path.exists(cache):
        db = sqlite3.connect(cache)
        for row in db.execute("SELECT title, guid, url, pubDate, unread "
                              "FROM rss_item ORDER BY pubDate DESC, id"):
            items.append({"title": row[0], "guid": row[1], "url": row[2],
                          "pubDate": row[3], "unread": row[4]})
        db.close()
    return {"exit": p.returncode,
            "stderr": p.stderr.decode("utf-8", "replace")[-2000:],
            "items": items}


def main():
    if sys.argv[1] == "feedparser":
        out = with_feedparser(sys.argv[2])
    elif sys.argv[1] == "newsboat":
        out = with_newsboat(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: rss-parse.py feedparser FILE | newsboat URL DIR")
    json.dump(out, sys.stdout, ensure_ascii=False)


main()
