#!/usr/bin/env python3
"""w5 compact text -> JSONL.  Usage: python3 convert.py src/part-NN.txt part-NN.jsonl START_ID

Compact form (authored by hand, one conversation per block):
### lang=fr platform=discord label=grooming kind=slow_grooming subject=b
@a 12 estimated 2025-03-01      handle age(?=null) source [account_created]
@b ? unknown
ts 2026-03-02T16:04:00Z         optional: turns on timestamps
a: text
!b: text {age_probing,secrecy}  '!' marks first_risk_index; {..} signs
-- +2h | -- +3d | -- +25m       gap before the next message (timestamps only)

The header's kind= is a detailed name kept here in src/; the JSON gets a coarse kind
(coarse_kind() + OVERRIDES below), e.g. declared_teen_persona, returning_scammer, sibling.
`python3 convert.py all` rebuilds every part-NN.jsonl from src/part-NN.txt with running ids.
"""
import json, re, sys
from datetime import datetime, timedelta, timezone

def parse(path):
    blocks, cur = [], None
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#!"):
            continue
        if line.startswith("###"):
            cur = {"hdr": dict(kv.split("=", 1) for kv in line[3:].split()), "parts": {}, "msgs": [], "ts": None, "gaps": {}}
            blocks.append(cur)
            continue
        if line.startswith("@"):
            f = line[1:].split()
            p = {"age": None if f[1] == "?" else int(f[1]), "age_source": f[2] if len(f) > 2 else "unknown"}
            if len(f) > 3:
                p["account_created"] = f[3]
            cur["parts"][f[0]] = p
            continue
        if line.startswith("ts "):
            cur["ts"] = datetime.fromisoformat(line[3:].strip().replace("Z", "+00:00"))
            continue
        if line.startswith("-- "):
            m = re.fullmatch(r"\+(\d+)([mhd])", line[3:].strip())
            n, u = int(m.group(1)), m.group(2)
            cur["gaps"][len(cur["msgs"])] = timedelta(minutes=n) if u == "m" else timedelta(hours=n) if u == "h" else timedelta(days=n)
            continue
        m = re.match(r"(!?)([A-Za-z0-9_]+): (.*)$", line)
        if not m:
            raise SystemExit(f"{path}: bad line: {line!r}")
        text, signs = m.group(3), None
        s = re.search(r"\s*\{([a-z_,]+)\}\s*$", text)
        if s:
            signs = s.group(1).split(",")
            text = text[: s.start()]
        cur["msgs"].append({"from": m.group(2), "text": text, "signs": signs, "risk": bool(m.group(1))})
    return blocks

import re
def has(k, *words): return any(w in k for w in words)
def coarse_kind(label, k, platform):
    if label == 'exploitation':
        return 'livestream_commissioning'
    if label == 'sextortion':
        if has(k, 'returning'): return 'returning_scammer'
        if has(k, 'hacked_friend'): return 'hacked_friend_account'
        if has(k, 'deepfake', 'bluff'): return 'deepfake_threat'
        if has(k, 'more_images', 'more_pics'): return 'more_images_demand'
        if has(k, 'false_accusation'): return 'false_accusation_threat'
        if platform == 'omegle-like' or has(k, 'recorded_cam', 'recorded_add_snap'): return 'random_chat_recording'
        if has(k, 'fake_scout'): return 'fake_opportunity_threat'
        if re.search(r'declared_1[4-7]', k): return 'declared_teen_persona'
        return 'unknown_age_scammer'
    if label == 'grooming':
        if platform == 'omegle-like' or has(k, 'random_chat'): return 'random_chat'
        if has(k, 'photographer', 'casting', 'brand_ambassador', 'producer', 'modeling', 'scout', 'esport_team', 'game_tester',
               'youtuber', 'dance_coach', 'influencer', 'tiktok_dance', 'life_coach', 'fake_moderator', 'fake_admin'): return 'fake_opportunity'
        if has(k, 'posing_teen', 'fake_teen', 'fake_peer', 'claims_girl', 'older_teen', 'older_boyfriend', 'posing'): return 'fake_peer'
        if has(k, 'coach', 'tutor', 'teacher', 'youth_leader', 'neighbour', 'family_friend', 'instructor', 'trainer', 'lifeguard',
               'bakery', 'cinema', 'phone_shop', 'campsite', 'bus_stop', 'swimming_pool', 'skatepark', 'mothers_ex', 'gym', 'horse',
               'older_player', 'basketball'): return 'offline_acquaintance'
        if platform == 'twitch' or has(k, 'streamer'): return 'streamer_viewer'
        if has(k, 'isolation', 'runaway', 'support_server', 'lgbtq'): return 'isolation'
        if has(k, 'meeting', 'cover', 'convention', 'theme_park', 'hackathon', 'raid', 'mall', 'address'): return 'meeting_cover_story'
        if has(k, 'robux', 'gift', 'vbucks', 'skin', 'special_friend', 'secret_game', 'marriage', 'show_me'): return 'gifts_secrecy'
        return 'slow_grooming_online'
    # benign
    if has(k, 'trust_safety', 'moderator', 'mods_', '_mods', 'prevention', 'tells', 'warns', 'explains', 'stranger', 'creep',
           'privacy', 'scam', 'sextortion', 'deepfake', 'quick_add', 'report', 'leaves_when_minor', 'online_friend', 'redirects',
           'age_check', 'refuses_private', 'boundaries', 'parents_forum', 'mums_forum', 'parenting_forum', 'online_safety',
           'clan_recruitment', 'club_admin', 'screen_time', 'first_phone', 'sets_privacy', 'gift_card_requests', 'phone_advice',
           'worried_uncle', 'creepy', 'safe_meet', 'meet_safely', 'manages_kid'): return 'prevention_talk'
    if has(k, 'grandma', 'grandpa', 'grandparent', 'grandfather', 'grandmother', 'nana', 'mamy', 'papy'): return 'grandparent'
    if has(k, 'sibling', 'brother', 'sister', 'sisters'): return 'sibling'
    if has(k, 'aunt', 'uncle', 'cousin', 'family_group', 'family_server'): return 'extended_family'
    if has(k, 'parent_', 'parents_', 'mother', 'father', 'dad', 'mum', 'stepdad', 'divorced', 'spouses', 'couple_gender'):
        if has(k, 'teacher', 'coach', 'tutor', 'school', 'recital', 'theatre', 'camp', 'class', 'esport', 'photoshoot', 'entertainer',
               'cooking', 'workshop', 'portrait', 'birth', 'communion', 'stream', 'football'): return 'school_club_logistics'
        return 'parent_child' if not has(k, 'couple_gender', 'spouses') else 'adults_among_themselves'
    if has(k, 'teacher', 'coach', 'tutor', 'school', 'library', 'academy', 'theatre', 'scouts', 'youth_leaders', 'camp', 'club',
           'classmates', 'class_server', 'homework_forum', 'charity', 'coding', 'piano', 'kids_server_event'): return 'school_club_logistics'
    if has(k, 'adult', 'adults', 'dating', 'wedding', 'neighbours', 'flat', 'old_friends', 'coworkers', 'influencer', 'jewellery',
           'dog_breeder', 'proposal', 'dnd', 'house_swap', 'streamers', 'viewers_adults', 'gift_subs'): return 'adults_among_themselves'
    if has(k, 'gamer', 'gaming', 'trading', 'trade', 'gifting', 'skin', 'carry', 'lan_party', 'tournament', 'dev_hired'): return 'gamers'
    if has(k, 'teen', 'peers', 'friends', 'girls', 'boys', 'kids', 'crush', 'couple', 'banter', 'breakup', 'sleepover', 'party',
           'prom', 'festival', 'roleplay', 'neighbour_kids', 'best_friends', 'playdate', 'play_date'): return 'peers'
    return 'other_benign'

# hand-checked corrections to the keyword rules above (detailed kind -> coarse kind)
OVERRIDES = {
    'same_age_roleplay_dating': 'peers', 'teen_streamers_collab': 'peers', 'adult_cousins_grandma_party': 'extended_family',
    'class_reunion_organising': 'adults_among_themselves', 'peer_kpop_server_age_question': 'peers',
    'streamer_career_advice_public': 'prevention_talk', 'teen_girls_makeup_secret_from_mum': 'peers',
    'teen_peers_parents_away': 'peers', 'teens_pool_party_parents_home': 'peers',
    'family_stream_with_kids': 'adults_among_themselves', 'adults_selling_concert_tickets_scam_check': 'adults_among_themselves',
    'adult_steam_card_scam_victim': 'adults_among_themselves', 'mother_influencer_brand_child_boundaries': 'adults_among_themselves',
    'father_daughter_school_trip_london': 'parent_child', 'mother_daughter_school_trip_es': 'parent_child',
    'mother_son_summer_camp': 'parent_child', 'parent_and_teen_set_up_streaming': 'parent_child', 'teen_streamer_mum_mod': 'parent_child',
    'kids_school_friends_de': 'peers', 'kids_school_friends_es': 'peers', 'kids_school_group_roblox': 'peers',
    'classmates_group_project_call': 'peers', 'classmates_project_roblox_build': 'peers', 'teen_friends_summer_camp_reunion': 'peers',
    'teen_peers_coding_mentoring': 'peers', 'streamer_father_son_on_stream': 'adults_among_themselves',
    'parent_books_communion_photoshoot': 'adults_among_themselves', 'parent_commissions_child_portrait': 'adults_among_themselves',
    'parent_orders_birth_announcement': 'adults_among_themselves', 'charity_stream_hospital_kids': 'adults_among_themselves',
    'gamers_gift_skin_hide_from_sibling': 'peers', 'kids_trading_big_brother_advice': 'peers',
    'sugar_offer_phone_bill': 'gifts_secrecy', 'adult_second_football_de': 'offline_acquaintance',
    'victim_pays_then_more': 'declared_teen_persona', 'fake_scout_cashapp': 'unknown_age_scammer',
    'false_accusation_threat_robux': 'declared_teen_persona',
}


def build(b, cid):
    h = b["hdr"]
    t = b["ts"]
    msgs, fri = [], None
    for i, m in enumerate(b["msgs"]):
        o = {"from": m["from"], "text": m["text"]}
        if t is not None:
            if i in b["gaps"]:
                t = t + b["gaps"][i]
            elif i > 0:
                t = t + timedelta(seconds=25 + int(len(m["text"]) * 1.7) + (i * 7) % 40)
            o["at"] = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if m["signs"]:
            o["signs"] = m["signs"]
        if m["risk"]:
            fri = i
        msgs.append(o)
    label = h["label"]
    subj = h.get("subject")
    return {"id": cid, "writer": "w5", "lang": h["lang"], "platform": h["platform"],
            "participants": b["parts"], "messages": msgs, "label": label,
            "kind": OVERRIDES.get(h["kind"]) or coarse_kind(label, h["kind"], h["platform"]),
            "subject": None if label == "benign" else subj,
            "first_risk_index": None if label == "benign" else fri}

if __name__ == "__main__" and sys.argv[1:2] != ["all"]:
    src, dst, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(dst, "w", encoding="utf-8") as f:
        for k, b in enumerate(parse(src)):
            f.write(json.dumps(build(b, f"w5-{start + k:04d}"), ensure_ascii=False) + "\n")
    print(dst, k + 1, "conversations, ids", start, "to", start + k)

def build_all():
    """python3 convert.py all : every src/part-NN.txt -> part-NN.jsonl, ids running on."""
    import glob, os
    here = os.path.dirname(os.path.abspath(__file__))
    n = 1
    for src in sorted(glob.glob(os.path.join(here, "src", "part-*.txt"))):
        dst = os.path.join(here, os.path.basename(src)[:-4] + ".jsonl")
        blocks = parse(src)
        with open(dst, "w", encoding="utf-8") as f:
            for b in blocks:
                f.write(json.dumps(build(b, f"w5-{n:04d}"), ensure_ascii=False) + "\n")
                n += 1
        print(os.path.basename(dst), len(blocks))

if __name__ == "__main__" and sys.argv[1:2] == ["all"]:
    build_all()
