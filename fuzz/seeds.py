#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ (docs/fuzzing.md).

The seeds are the real shapes: what the fake servers in tests/fake_*.c
answer and the providers' documented examples, plus the tests' own CSV
files. Inputs libFuzzer found later (and crash reproducers) are committed
beside them under their SHA-1 names; this script never removes those.
Run from the repository root: python3 fuzz/seeds.py
"""
import base64
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def wav(rate=8000, seconds=0.25):
    n = int(rate * seconds)
    pcm = b"".join(struct.pack("<h", (i * 97) % 2000 - 1000) for i in range(n))
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png(w=2, h=1):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg(w=16, h=9):
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


# ---- router and query strings -------------------------------------------------------------
for i, t in enumerate([
    "GET /api/v1/personas", "POST /api/v1/personas", "GET /api/v1/personas/0190a3d1-0000-7000-8000-000000000001",
    "PATCH /api/v1/personas/0190a3d1-0000-7000-8000-000000000001/history?limit=5&cursor=abc",
    "GET /api/v1/channels/0190a3d1-0000-7000-8000-000000000002/analytics?period=week&from=2025-01-01",
    "HEAD /healthz", "GET /api/v1/projects/%30190a3d1-0000-7000-8000-000000000001/scenes",
    "DELETE /api/v1/personas/new", "GET /api/v1/auth/me", "OPTIONS /api/v1/personas",
    "GET //api/v1/../personas", "GET /api/v1/jobs?status=queued&limit=100",
    "GET /app/index.html", "POST /api/v1/auth/login", "GET /api/v1/google/callback?code=4%2F0Ab&state=xyz",
]):
    put("router", "%02d" % i, t)
for i, t in enumerate([
    "limit=20&cursor=0190a3d1-0000-7000-8000-000000000001", "a=1&b=x+y", "q=%E2%82%AC%20euro&&x",
    "name=%zz", "=&=&", "code=4%2F0AbCD&state=s&scope=a+b", "from=2025-01-01&to=2025-12-31&period=day",
]):
    put("query", "%02d" % i, t)

# ---- bodies: the selector byte picks spec/mode/admin --------------------------------------
bodies = [
    (0, '{"name":"Nova","description":"A calm astronomy narrator","tone":"warm","language":"en-US","tags":["space","science"]}'),
    (1, '{"description":"Updated","tags":[]}'),
    (8, '{"topic":"Why is the night dark?","persona_id":"0190A3D1-0000-7000-8000-000000000001","scene_count":5}'),
    (12, '{"visual_description":"Stars","narration":"Look up.","duration_s":7.5}'),
    (16, '{"title":"Alice in Space","persona_id":null}'),
    (23, '{"email":"a@example.com","password":"correct horse battery","is_admin":true}'),
    (28, '{"name":"ci key","expires_at":"2026-01-01T00:00:00Z"}'),
    (3, '{"name":"x","name":"y"}'),
    (5, '{"unknown":1,"tags":[1,2,3],"name":""}'),
    (0, '[]'),
]
for i, (sel, b) in enumerate(bodies):
    put("body", "%02d" % i, bytes([sel]) + b.encode())

for i, t in enumerate(['[]', '["a","b"]', '["a", "b" ,"c"]', ' [ "x" ] ', '["caf\u00e9"]', '["a\\nb"]',
                       '["a",]', '[""]', '["\xff"]']):
    put("json_plain_strings", "%02d" % i, t.encode("utf-8", "surrogateescape") if isinstance(t, str) else t)

# ---- LLM answers (tests/fake_llm.c) ----------------------------------------------------------
script = ('{"title":"Why is the night dark?","description":"Olbers\' paradox, explained.",'
          '"tags":["astronomy","space"],"scenes":[{"visual_description":"Shot 1 of the night sky.",'
          '"narration":"Line 1 about why the night is dark."}]}')
import json
gem = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Let me think.", "thought": True},
                                                             {"text": script}]},
                       "finishReason": "STOP", "index": 0}],
       "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 340, "thoughtsTokenCount": 5},
       "modelVersion": "fake"}
put("llm_gemini", "answer", b"\x00" + json.dumps(gem).encode())
gem_fence = json.loads(json.dumps(gem))
gem_fence["candidates"][0]["content"]["parts"][1]["text"] = "```json\n" + script + "\n```"
put("llm_gemini", "fenced", b"\x00" + json.dumps(gem_fence).encode())
put("llm_gemini", "blocked", b"\x00" + b'{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":3}}')
put("llm_gemini", "max-tokens", b"\x00" + b'{"candidates":[{"content":{"parts":[{"text":"{\\"title\\": \\"unfin"}]},"finishReason":"MAX_TOKENS"}]}')
put("llm_gemini", "429", b"\x0b" + b'{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"9s"}]}}')
put("llm_gemini", "400-key", b"\x01" + b'{"error":{"code":400,"message":"API key not valid: AIzaSyFUZZ-the-key-never-quoted-0123456","status":"INVALID_ARGUMENT"}}')
put("llm_gemini", "html", b"\x00<html>proxy error</html>")
oai = {"id": "chatcmpl-1", "object": "chat.completion",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": script, "refusal": None},
                    "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 111, "completion_tokens": 222, "total_tokens": 333}}
put("llm_openai", "answer", b"\x00" + json.dumps(oai).encode())
oai_ref = json.loads(json.dumps(oai))
oai_ref["choices"][0]["message"]["refusal"] = "I can't help with that."
put("llm_openai", "refusal", b"\x00" + json.dumps(oai_ref).encode())
oai_len = json.loads(json.dumps(oai))
oai_len["choices"][0]["finish_reason"] = "length"
put("llm_openai", "length", b"\x00" + json.dumps(oai_len).encode())
put("llm_openai", "quota", b"\x0b" + b'{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}')
put("llm_openai", "401-key", b"\x03" + b'{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz012345.","type":"invalid_request_error","code":"invalid_api_key"}}')
put("llm_openai", "garbled", b"\x00<html>proxy error</html>")

# ---- Google OAuth (tests/fake_google.c; Google's documented answers) -----------------------------
put("google_oauth", "tokens", b"\x00" + b'{"access_token":"ya29.a0AfB_byC","expires_in":3599,"refresh_token":"1//0gLx","scope":"https://www.googleapis.com/auth/youtube.readonly https://www.googleapis.com/auth/yt-analytics.readonly","token_type":"Bearer"}')
put("google_oauth", "tokens-refresh", b"\x00" + b'{"access_token":"ya29.a0new","expires_in":3599,"scope":"openid","token_type":"Bearer","id_token":"eyJ"}')
put("google_oauth", "userinfo", b"\x01" + b'{"sub":"110169484474386276334","email":"alice@example.com","email_verified":true,"name":"Alice","picture":"https://lh3.googleusercontent.com/a/x"}')
put("google_oauth", "userinfo-str", b"\x01" + b'{"sub":"1","email_verified":"true"}')
put("google_oauth", "invalid-grant", b"\x02" + b'{"error":"invalid_grant","error_description":"Bad Request"}')
put("google_oauth", "quota", b"\x05" + b'{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your quota.","errors":[{"message":"quota","domain":"youtube.quota","reason":"quotaExceeded"}]}}')
put("google_oauth", "status", b"\x0e" + b'{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED"}}')

# ---- YouTube channels.list ---------------------------------------------------------------------
def channel(cid, title, custom, views, videos, subs=None, hidden=False):
    stats = {"viewCount": views, "videoCount": videos, "hiddenSubscriberCount": hidden}
    if subs is not None:
        stats["subscriberCount"] = subs
    snip = {"title": title, "description": "", "thumbnails": {
        "default": {"url": "https://yt3.ggpht.com/d", "width": 88, "height": 88},
        "medium": {"url": "https://yt3.ggpht.com/m", "width": 240, "height": 240}}}
    if custom:
        snip["customUrl"] = custom
    return {"kind": "youtube#channel", "etag": "e", "id": cid, "snippet": snip, "statistics": stats,
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + cid[2:]}}}
put("youtube_channels", "two", json.dumps({"kind": "youtube#channelListResponse", "etag": "list-etag",
    "pageInfo": {"totalResults": 2, "resultsPerPage": 50},
    "items": [channel("UCalice0000000000000001", "Alice in Space", "@aliceinspace", "1200", "12", "345"),
              channel("UCalice0000000000000002", "Alice Cooks", None, "42", "7", hidden=True)],
    "nextPageToken": "CAUQAA"}))
put("youtube_channels", "empty", '{"kind":"youtube#channelListResponse","pageInfo":{"totalResults":0,"resultsPerPage":50}}')
put("youtube_channels", "ints", '{"items":[{"id":"UC1","snippet":{"title":"t"},"statistics":{"viewCount":5,"subscriberCount":-3,"videoCount":"99999999999999999999"}}]}')

# ---- YouTube Analytics result table (first byte: days in the range - 1; second: videos asked for,
# ---- 0 for the channel's report by day, else the first n of fuzz/youtube_analytics.c's list) ---
names = ["day", "views", "likes", "comments", "shares", "estimatedMinutesWatched",
         "averageViewDuration", "averageViewPercentage", "subscribersGained", "subscribersLost"]
hdr = [{"name": n, "columnType": "DIMENSION" if n == "day" else "METRIC",
        "dataType": "STRING" if n == "day" else ("FLOAT" if n == "averageViewPercentage" else "INTEGER")} for n in names]
rows = [["2024-05-%02d" % (d + 1), 100 + d, 10, 1, 2, 300, 180, 41.5, 3, 1] for d in range(3)]
put("youtube_analytics", "three-days", bytes([6, 0]) + json.dumps({"kind": "youtubeAnalytics#resultTable",
    "columnHeaders": hdr, "rows": rows}).encode())
put("youtube_analytics", "no-rows", bytes([0, 0]) + json.dumps({"kind": "youtubeAnalytics#resultTable", "columnHeaders": hdr}).encode())
put("youtube_analytics", "reversed", bytes([2, 0]) + json.dumps({"columnHeaders": hdr[::-1],
    "rows": [r[::-1] for r in rows[:2]]}).encode())

vhdr = hdr[:1] + [{"name": "video", "columnType": "DIMENSION", "dataType": "STRING"}] + hdr[1:]
vrows = [["2024-05-%02d" % (d + 1), v, 100 + d, 10, 1, 2, 300, 180, 41.5, 3, 1]
         for d in range(3) for v in ("dQw4w9WgXcQ", "a-b_c1234")]
put("youtube_analytics", "by-video", bytes([6, 3]) + json.dumps({"kind": "youtubeAnalytics#resultTable",
    "columnHeaders": vhdr, "rows": vrows}).encode())
put("youtube_analytics", "by-video-twice", bytes([6, 2]) + json.dumps({"columnHeaders": vhdr,
    "rows": [vrows[0], vrows[0]]}).encode())
put("youtube_analytics", "by-video-unasked", bytes([6, 1]) + json.dumps({"columnHeaders": vhdr,
    "rows": [vrows[1]]}).encode())

# ---- YouTube Reporting CSV (first byte: days the report covers - 1) ----------------------------
put("youtube_reporting", "week", bytes([6]) + (
    "date,channel_id,video_id,live_or_on_demand,subscribed_status,video_thumbnail_impressions,"
    "video_thumbnail_impressions_ctr\n"
    "20240501,UCfuzzchannel0000000000a,v1,on_demand,subscribed,1000,0.05\n"
    "20240502,UCfuzzchannel0000000000a,v2,on_demand,not_subscribed,0,\n"
    "2024-05-03,UCother00000000000000001,v3,live,subscribed,50,1\n"
    "20240507,UCfuzzchannel0000000000a,v1,on_demand,subscribed,200,0.0512\n").encode())
put("youtube_reporting", "short", bytes([0]) + b"date,channel_id,video_thumbnail_impressions,video_thumbnail_impressions_ctr\r\n20240501,UCfuzzchannel0000000000a,\"7\",0\r\n")

# ---- Studio CSV import (tests/test_analytics.c) ------------------------------------------------
put("analytics_import", "en", "\ufeff"
    "Date,Estimated revenue (USD),Views,Watch time (hours),Subscribers,Likes,Comments added,"
    "Shares,Average view duration,Average percentage viewed (%),Impressions,"
    "Impressions click-through rate (%)\r\n"
    "Total,\"1,234.50\",600,30.5,7,45,6,3,0:03:03,41.5,12000,5.0\r\n"
    "2025-12-07,\"12,5\",100,5.0,3,10,1,1,0:03:00,40.0,2000,5.0\r\n"
    "2025-12-08,\"no, comma\",200,10.25,-2,15,2,1,0:03:05,42.5,4000,4.5\r\n"
    "2025-12-09,,300,15.25,6,20,3,1,1:02:03,120.5,6000,5.5\r\n")
put("analytics_import", "pt", "Data,\"Marcações \"\"Gostei\"\"\",Visualizações,Tempo de exibição (horas),"
    "Inscritos obtidos,Inscritos perdidos,Comentários adicionados,Compartilhamentos,"
    "Duração média da visualização,Porcentagem média visualizada (%),Nota\n"
    "Total,30,600,30,9,2,6,3,0:03:00,40,\n"
    "2025-11-03,10,100,5,3,1,1,1,2:30,40,ok\n"
    "2025-11-04,10,abc,5,3,1,1,1,2:30,40,ok\n"
    "2025-11-31,10,100,5,3,1,1,1,2:30,40,ok\n"
    "2025-11-05,10,100,5,3,1,1,1,2:30,40,\"two\nlines\"\n"
    "2025-11-06,10,-5,5,3,1,1,1,2:30,40,ok\n"
    "2025-11-07,10,100,5,3,1,1,1,2:75,40,ok\n"
    "2025-11-03,99,999,5,3,1,1,1,2:30,40,ok\n")
put("analytics_import", "small", "Date,Views,Impressions\n2025-12-08,250,1\n")
put("analytics_import", "dup-col", "Date,Views, views \n2025-12-08,1,2\n")

# ---- narrators ---------------------------------------------------------------------------------
w = wav()
put("tts", "google", b"\x00" + json.dumps({"audioContent": base64.b64encode(w).decode(), "timepoints": [
    {"markName": "w%d" % i, "timeSeconds": i * 0.02} for i in range(10)],
    "audioConfig": {"audioEncoding": "LINEAR16", "speakingRate": 1, "sampleRateHertz": 8000}}).encode())
put("tts", "google-no-marks", b"\x00" + json.dumps({"audioContent": base64.b64encode(w).decode()}).encode())
put("tts", "google-bad-mark", b"\x00" + json.dumps({"audioContent": base64.b64encode(w).decode(),
    "timepoints": [{"markName": "w99", "timeSeconds": 0.1}]}).encode())
put("tts", "wav", b"\x01" + w)
put("tts", "wav-streamed", b"\x01" + w[:40] + b"\xff\xff\xff\xff" + w[44:200])

# ---- images ------------------------------------------------------------------------------------
p, j = png(), jpeg()
put("image", "gemini-png", b"\x00" + json.dumps({"candidates": [{"content": {"parts": [
    {"text": "Here is the image."}, {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(p).decode()}}]},
    "finishReason": "STOP"}]}).encode())
put("image", "gemini-jpeg-snake", b"\x00" + json.dumps({"candidates": [{"content": {"parts": [
    {"inline_data": {"mime_type": "image/jpeg", "data": base64.b64encode(j).decode()}}]}}]}).encode())
put("image", "gemini-refused", b"\x00" + b'{"candidates":[{"content":{"parts":[{"text":"I cannot draw that."}]},"finishReason":"STOP"}]}')
put("image", "gemini-blocked", b"\x00" + b'{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}')
put("image", "openai", b"\x01" + json.dumps({"created": 1700000000, "data": [{"b64_json": base64.b64encode(j).decode(),
    "revised_prompt": "a card"}]}).encode())
put("image", "probe-png", b"\x02" + p)
put("image", "probe-jpeg", b"\x02" + j)

# ---- resumable uploads (tests/fake_upload.c): status selector, total selector, Range line, body --
put("youtube_upload", "308", b"\x00\x05bytes=0-262143\n")
put("youtube_upload", "308-none", b"\x01\x05\n")
put("youtube_upload", "200", b"\x02\x05\n" + b'{"kind":"youtube#video","etag":"e","id":"dQw4w9WgXcQ","snippet":{"title":"t"},"status":{"uploadStatus":"uploaded"}}')
put("youtube_upload", "404", b"\x04\x05\nNot Found")
put("youtube_upload", "quota", b"\x07\x05\n" + b'{"error":{"code":403,"message":"quota","errors":[{"reason":"quotaExceeded"}]}}')

# ---- S3 XML (the S3 API reference; tests/s3) ---------------------------------------------------
put("s3_xml", "error", '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>media</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>')
put("s3_xml", "initiate", '<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>media</Bucket><Key>u/p/video.mp4</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId></InitiateMultipartUploadResult>')
put("s3_xml", "complete", '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Location>http://media.s3/u/p/video.mp4</Location><Bucket>media</Bucket><Key>u/p/video.mp4</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>')
put("s3_xml", "list", '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>media</Name><Prefix>pre/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><Contents><Key>pre/u/p/audio.wav</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"fba9dede5f27731c9771645a39863328"</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>pre/u/p/video.mp4</Key><Size>1</Size></Contents></ListBucketResult>')
put("s3_xml", "prefixes", '<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>pre/u1/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>pre/u2/</Prefix></CommonPrefixes></ListBucketResult>')
put("s3_xml", "entities", '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "&#x3C;x&#x3E;">]><Error><Code>&e;&amp;&lt;</Code><Message><![CDATA[cdata <here>]]></Message></Error>')

# ---- forwarding headers (first byte: bit 0 Forwarded, bit 1 first line is the trusted list) --------
for i, (sel, t) in enumerate([
    (0, "203.0.113.7, 10.0.0.2"), (0, "2001:db8::1, 10.0.0.2, 127.0.0.1"), (1, 'for=203.0.113.7;proto=https, for="[2001:db8:cafe::17]:4711"'),
    (1, 'for=_hidden, for="198.51.100.17:8080";by=10.0.0.1'), (2, "10.0.0.0/8,::ffff:192.0.2.1/128\n203.0.113.9"),
    (3, "fd00::/8\nFor=\"[::ffff:198.51.100.7]\""), (0, ",,, 1.2.3.4 ,"), (4, "2001:db8::2"),
]):
    put("proxy", "%02d" % i, bytes([sel]) + t.encode())

# ---- config files (README's settings) ----------------------------------------------------------
put("config", "typical", "# Persona Studio\nport = 8080\nbind = 127.0.0.1\ndata_dir = ./data\nlog_level = info\n"
    "llm_provider = gemini\nllm_model = gemini-2.5-flash\ntrusted_proxies = 10.0.0.0/8, fd00::/8\n"
    "proxy_header = forwarded\nmedia_store = s3\ns3_endpoint = http://127.0.0.1:9000\nyoutube_publishing = true\n")
put("config", "bad-int", "port = 99999999999\n")
put("config", "unknown", "no_such_setting = 1\n")
put("config", "db", "database_url = postgresql://pstudio@localhost/pstudio?sslmode=disable\n\tlog_level=debug\r\n")
put("config", "no-eq", "   \n# only a comment\njust words\n")
