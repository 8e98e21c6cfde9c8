from datetime import date

import pytest

from tardis_assets.lib.market.news import NewsFileError, read_news_file

DAY = date(2025, 3, 1)


def write(tmp_path, text):
    path = tmp_path / "news_2025-03-01.csv"
    path.write_text(text)
    return path


def test_reads_iso_and_microsecond_times(tmp_path):
    path = write(
        tmp_path,
        "published_at,headline,source,symbols\n"
        "2025-03-01T10:00:00Z,BTC rallies,wire,BTC;eth\n"
        '1740787200000001,"Hack, then selloff",desk,BTC\n',
    )
    frame = read_news_file(path, DAY)
    assert frame["headline"].to_list() == ["Hack, then selloff", "BTC rallies"]
    assert frame["symbols"].to_list() == [["BTC"], ["BTC", "ETH"]]


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("time,headline,source,symbols\n", 1, "header"),
        ("published_at,headline,source,symbols\nnot-a-time,x,y,BTC\n", 2, "published_at"),
        ("published_at,headline,source,symbols\n2025-03-02T00:00:00Z,x,y,BTC\n", 2, "outside"),
        ("published_at,headline,source,symbols\n2025-03-01T01:00:00,x,y,BTC\n", 2, "zone"),
        ("published_at,headline,source,symbols\n2025-03-01T01:00:00Z,x,y\n", 2, "4 fields"),
    ],
)
def test_bad_news_files_name_file_line_and_reason(tmp_path, body, line, reason):
    path = write(tmp_path, body)
    with pytest.raises(NewsFileError, match=reason) as info:
        read_news_file(path, DAY)
    assert info.value.line == line
    assert str(path) in str(info.value)
