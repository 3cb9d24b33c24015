import pytest

from marketplace.core.money import Money, format_money, parse_major, platform_fee, split_fee


@pytest.mark.parametrize("amount", [0, 1, 5, 49, 50, 99, 101, 12345, 10**9 + 7])
@pytest.mark.parametrize("bps", [0, 1, 999, 1000, 1250, 10000])
def test_fee_plus_payout_is_the_amount(amount, bps):
    fee, payout = split_fee(amount, bps)
    assert fee + payout == amount and 0 <= fee <= amount


def test_fee_rounds_half_up():
    assert platform_fee(5, 1000) == 1      # 0.5 -> 1
    assert platform_fee(4, 1000) == 0      # 0.4 -> 0
    assert platform_fee(12345, 1000) == 1235


def test_parse_major_is_exact():
    assert parse_major("12.50") == 1250
    assert parse_major("0.01") == 1
    # Huge exponents are refused before any arithmetic (they would overflow or burn CPU).
    for bad in ("1.005", "abc", "NaN", "inf", "", "1e999999999", "1e500000", "1e16"):
        with pytest.raises(ValueError):
            parse_major(bad)


def test_money_refuses_floats_and_unknown_currencies():
    with pytest.raises(TypeError):
        Money(12.5, "USD")
    with pytest.raises(ValueError):
        Money(100, "XXX")
    assert str(Money(123456, "USD")) == "$1,234.56"
    assert format_money(-250, "EUR") == "-€2.50"


def test_fees_read_as_percent_everywhere():
    from marketplace.core.money import format_percent
    assert format_percent(1000) == "10%" and format_percent(1250) == "12.5%" and format_percent(0) == "0%"
