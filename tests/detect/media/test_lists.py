"""Hash-list parsing: the shared CSV and the HMA / ThreatExchange formats, line by line."""

from __future__ import annotations

import json

import pytest

from vigie.detect.media.lists import ListFormatError, detect_format, parse_list

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "8bbbaa9540800e378beadc8bbef7bb32"


def test_csv_contract_with_bad_lines_reported_by_number() -> None:
    text = (
        "hash_type,hash_value,list,label\n"
        f"pdq,{PDQ},hotline,known_csam\n"
        "pdq,not-hex,hotline,known_csam\n"
        "\n"
        f"md5,{MD5.upper()},ncii,ncii_self_reported\n"
        "phash,1234,hotline,known_csam\n"
        f"md5,{MD5}\n"
    )
    parsed = parse_list(text)
    assert [(e.hash_type, e.list, e.label, e.line) for e in parsed.entries] == [
        ("pdq", "hotline", "known_csam", 2),
        ("md5", "ncii", "ncii_self_reported", 5),
    ]
    assert parsed.entries[1].value == MD5
    assert [line for line, _ in parsed.rejected] == [3, 6, 7]
    assert "64 hex" in parsed.rejected[0][1]
    assert "unknown hash type" in parsed.rejected[1][1]


def test_csv_optional_quality_and_op_columns() -> None:
    text = (
        f"hash_type,hash_value,list,label,quality,op\npdq,{PDQ},l,x,30,remove\npdq,{PDQ},l,x,abc,\n"
    )
    parsed = parse_list(text)
    assert (parsed.entries[0].quality, parsed.entries[0].op) == (30, "remove")
    assert parsed.rejected == [(3, "quality is not a whole number")]


def test_csv_without_header_is_refused() -> None:
    with pytest.raises(ListFormatError, match="header"):
        parse_list(f"pdq,{PDQ},l,x\n", "csv")


def test_threatexchange_signal_file() -> None:
    text = f"# exported\npdq {PDQ}\nvideo_md5 {MD5}\npdq zz\nraw_text hello\n"
    assert detect_format(text) == "te"
    parsed = parse_list(text, default_list="te-collab", default_label="known_csam")
    assert [(e.hash_type, e.list, e.line) for e in parsed.entries] == [
        ("pdq", "te-collab", 2),
        ("md5", "te-collab", 3),
    ]
    assert [line for line, _ in parsed.rejected] == [4, 5]


def test_json_lines_threatexchange_and_hma() -> None:
    lines = [
        {"type": "HASH_PDQ", "raw_indicator": PDQ, "id": "123"},
        {"signal_type": "pdq", "signal_value": PDQ, "list": "hma-bank", "label": "ncii"},
        {"pdq": PDQ, "md5": MD5},
        {"type": "HASH_PDQ", "raw_indicator": "short"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n{broken\n"
    assert detect_format(text) == "jsonl"
    parsed = parse_list(text, default_list="te")
    assert [(e.hash_type, e.list, e.line) for e in parsed.entries] == [
        ("pdq", "te", 1),
        ("pdq", "hma-bank", 2),
        ("pdq", "te", 3),
        ("md5", "te", 3),
    ]
    assert [line for line, _ in parsed.rejected] == [4, 5]


def test_vpdq_values() -> None:
    frames = json.dumps([f"{PDQ},100,0.000", f"{PDQ[::-1]},80,1.000"])
    text = "hash_type,hash_value,list,label\n" + "vpdq," + json.dumps(frames) + ",v,x\n"
    text = text.replace('\\"', '""')
    parsed = parse_list(text)
    assert parsed.rejected == []
    assert json.loads(parsed.entries[0].value)[1].startswith(PDQ[::-1])


def test_plain_lines_read_as_the_careful_path_reads_them() -> None:
    """The fast reader takes only lines it can read exactly as the CSV path does; every other
    line goes the careful way. Whatever mix of lines, the result is the careful path's."""
    from vigie.detect.media.lists import ParsedList, _careful_line

    header = "hash_type,hash_value,list,label"
    lines = [
        f"pdq,{PDQ},hotline,known_csam",
        f"pdq,{PDQ.upper()},hotline,known_csam",
        f"pdq, {PDQ} ,hotline , known_csam ",
        f"PDQ,{PDQ},hotline,known_csam",
        f"hash_pdq,{PDQ},hotline,known_csam",
        f"md5,{MD5},,",
        f"sha256,{PDQ},l,x",
        f"md5,{PDQ},l,x",
        f"pdq,{MD5},l,x",
        f'pdq,{PDQ},"quoted, list",x',
        f"pdq,{PDQ},l,x,extra",
        f"pdq,{PDQ},l",
        f'vpdq,"[""{PDQ},100,0.000""]",l,x',
        "",
        "   ",
        "pdq,,l,x",
    ]
    column = {name: i for i, name in enumerate(header.split(","))}
    careful = ParsedList()
    for line, raw in enumerate(lines, start=2):
        if raw.strip():
            _careful_line(careful, raw, line, column, "file", "known_imagery")
    parsed = parse_list("\n".join([header, *lines]) + "\n", default_list="file")
    assert parsed.entries == careful.entries
    assert parsed.rejected == careful.rejected
    assert len(parsed.entries) == 10 and len(parsed.rejected) == 4
